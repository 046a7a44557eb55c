/**
 * One `handle()` call's credits merge into one `credit` command, one entry per volunteer
 * (per kind and name): found by walking a few entries, by a map past that.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Outbox } from '../../../server/master/scheduler/outbox.js';
import type { Credit } from '../../../server/master/scheduler/types.js';
import type { WorkerKind } from '../../../shared/protocol.js';

type Call = [volunteer: number, kind: WorkerKind, name: string, tasks: number];

/** What the credits must come to: each merges into its volunteer's latest entry if it matches. */
function expected(calls: readonly Call[]): Credit[] {
  const entries: Credit[] = [];
  const latest = new Map<string, Credit>();
  for (const [v, kind, name, tasks] of calls) {
    const volunteer = `v${v}`;
    let entry = latest.get(volunteer);
    if (entry === undefined || entry.kind !== kind || entry.name !== name) {
      entry = { volunteer, kind, name, tasks: 0, busyMs: 0 };
      latest.set(volunteer, entry);
      entries.push(entry);
    }
    entry.tasks += tasks;
    entry.busyMs += tasks * 2;
  }
  return entries;
}

function credited(outbox: Outbox, calls: readonly Call[]): Credit[] {
  for (const [v, kind, name, tasks] of calls)
    outbox.credit(`v${v}`, kind, name, tasks, tasks * 2);
  const commands = outbox.take();
  const credit = commands.filter((c) => c.type === 'credit');
  expect(credit.length).toBe(calls.length > 0 ? 1 : 0);
  return credit.flatMap((c) => c.credits);
}

describe('Outbox credits', () => {
  test('merge as each volunteer’s latest entry says, for few volunteers or many, call after call', () => {
    const call = fc.tuple(
      fc.integer({ min: 0, max: 30 }),
      fc.constantFrom<WorkerKind>('node', 'browser'),
      fc.constantFrom('a', 'b'),
      fc.integer({ min: 1, max: 5 }),
    );
    // Several handle() calls on one outbox: nothing of one call leaks into the next.
    const calls = fc.array(
      fc.oneof(
        fc.array(call, { maxLength: 6 }),
        fc.array(call, { minLength: 9, maxLength: 60 }),
      ),
      { minLength: 1, maxLength: 5 },
    );
    fc.assert(
      fc.property(calls, (rounds) => {
        const outbox = new Outbox();
        for (const round of rounds)
          expect(credited(outbox, round)).toEqual(expected(round));
      }),
      { numRuns: 300 },
    );
  });
});
