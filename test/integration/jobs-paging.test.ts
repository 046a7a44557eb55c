/** `GET /api/jobs` pages: newest first, every job exactly once while new jobs arrive. */
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { fixtureModule, startTestMaster } from '../helpers/master.js';

describe('GET /api/jobs paging', () => {
  test('every job exactly once across pages while new ones arrive', async () => {
    const { client, url } = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const submitted: string[] = [];
    for (let i = 0; i < 23; i++)
      submitted.push((await client.submit({ name: `j${i}`, module })).id);

    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await client.jobPage({
        limit: 5,
        ...(before ? { before } : {}),
      });
      pages++;
      seen.push(...page.jobs.map((job) => job.id));
      // A new job arrives between every two pages: it lands on top, not in the pages
      // still to come.
      await client.submit({ name: `late${pages}`, module });
      if (page.nextBefore === undefined) break;
      before = page.nextBefore;
    }
    expect(seen).toEqual([...submitted].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(5);

    // The default page is the latest 50 and says how many there are in all.
    const response = await fetch(`${url}/api/jobs`);
    expect(response.headers.get('x-total-count')).toBe(String(23 + pages));
    expect(response.headers.get('link')).toBeNull();
    const first = (await response.json()) as { id: string }[];
    expect(first[0]?.id).toBe(
      String(Math.max(...first.map((j) => Number(j.id)))),
    );
  });

  test('status filter and refusals', async () => {
    const { client, url } = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const running = await client.submit({
      name: 'r',
      module,
      inputs: [{ x: 1 }],
    });
    const done = await client.submit({ name: 'd', module, inputs: [] });
    const cancelled = await client.submit({
      name: 'c',
      module,
      inputs: [{ x: 2 }],
    });
    await client.cancel(cancelled.id);
    const ids = async (status: string) =>
      (await client.jobPage({ status })).jobs.map((job) => job.id);
    expect(await ids('running')).toEqual([running.id]);
    expect(await ids('completed')).toEqual([done.id]);
    expect(await ids('cancelled')).toEqual([cancelled.id]);

    for (const bad of ['limit=0', 'limit=501', 'limit=x', 'status=nope']) {
      const response = await fetch(`${url}/api/jobs?${bad}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { code: ErrorCode.InvalidArgument },
      });
    }
    const next = await fetch(`${url}/api/jobs?limit=1&status=running`);
    expect(next.headers.get('link')).toBe(
      `</api/jobs?limit=1&before=${running.id}&status=running>; rel="next"`,
    );
  });
});
