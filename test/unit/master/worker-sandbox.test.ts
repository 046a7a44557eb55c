/**
 * Each worker's sandbox, from its `hello` to what the dashboard and `GET /api/workers`
 * show: the gateway's reading of the hello, the scheduler's worker view, the summary.
 */
import { describe, expect, test } from 'vitest';
import { sandboxOf } from '../../../server/master/gateway-messages.js';
import { Hello, WorkerSummary } from '../../../shared/protocol.js';
import { makeScheduler } from '../../helpers/scheduler.js';

const hello = (extra: Record<string, unknown>): Hello =>
  Hello.parse({ type: 'hello', protocol: 3, kind: 'node', slots: 1, ...extra });

describe("a worker's sandbox", () => {
  test('a Node worker is shown with the sandbox its hello names, or none if it names none', () => {
    expect(sandboxOf(hello({ sandbox: 'bwrap' }))).toEqual({
      sandbox: 'bwrap',
    });
    expect(sandboxOf(hello({ sandbox: 'permission' }))).toEqual({
      sandbox: 'permission',
    });
    expect(sandboxOf(hello({ sandbox: 'none' }))).toEqual({ sandbox: 'none' });
    expect(sandboxOf(hello({}))).toEqual({});
  });

  test('a browser is shown as `browser`, whatever its hello claims', () => {
    expect(sandboxOf(hello({ kind: 'browser' }))).toEqual({
      sandbox: 'browser',
    });
    expect(sandboxOf(hello({ kind: 'browser', sandbox: 'none' }))).toEqual({
      sandbox: 'browser',
    });
  });

  test('a hello naming another sandbox fails its schema', () => {
    const bad = Hello.safeParse({
      type: 'hello',
      protocol: 3,
      kind: 'node',
      slots: 1,
      sandbox: 'browser',
    });
    expect(bad.success).toBe(false);
  });

  test('the scheduler keeps it per worker and its view (a valid summary) shows it', () => {
    const s = makeScheduler();
    const join = (workerId: string, extra: object) =>
      s.handle({
        type: 'worker-joined',
        workerId,
        kind: 'node',
        name: workerId,
        slots: 1,
        at: 0,
        ...extra,
      });
    join('boxed', { sandbox: 'permission' });
    join('tab', { kind: 'browser', sandbox: 'browser' });
    join('silent', {});
    expect(s.workerView('boxed')?.sandbox).toBe('permission');
    expect(s.workerView('tab')?.sandbox).toBe('browser');
    expect(s.workerView('silent')).not.toHaveProperty('sandbox');
    for (const view of s.workerViews())
      expect(WorkerSummary.parse({ ...view, rate: 0 }).sandbox).toBe(
        view.sandbox,
      );
  });
});
