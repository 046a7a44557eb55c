/**
 * Reads of the volunteers' totals kept in memory: any page of any order equals the same
 * slice of a full sort (ties by id), and a rank counts those with more tasks, also after
 * totals change between reads.
 */
import { describe, expect, test } from 'vitest';
import type { LedgerDelta } from '../../../server/master/store/volunteer-ledger.js';
import { VolunteerRows } from '../../../server/master/store/volunteer-rows.js';
import {
  VolunteerQuery,
  type VolunteerSummary,
} from '../../../shared/volunteers.js';

/** Deterministic totals with many ties: ids v00..v39. */
function deltas(count: number): LedgerDelta[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `v${String((i * 7) % count).padStart(2, '0')}`,
    name: `n${i}`,
    kind: 'node' as const,
    tasks: (i * 13) % 5,
    busyMs: (i * 11) % 7,
    firstAt: i,
    lastAt: 100 + ((i * 3) % 4),
  }));
}

const KEY: Record<VolunteerQuery['sort'], keyof VolunteerSummary> = {
  tasks: 'tasks',
  cpu: 'busyMs',
  lastSeen: 'lastSeen',
};

function fullSort(
  rows: VolunteerSummary[],
  sort: VolunteerQuery['sort'],
): string[] {
  const key = KEY[sort];
  return [...rows]
    .sort(
      (a, b) =>
        (b[key] as number) - (a[key] as number) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    .map((v) => v.id);
}

describe('volunteer rows in memory', () => {
  test('every page of every order is the slice of a full sort', () => {
    const rows = new VolunteerRows();
    rows.apply(deltas(40));
    const all = rows.page(VolunteerQuery.parse({ limit: 500 })).volunteers;
    expect(all).toHaveLength(40);
    for (const sort of ['tasks', 'cpu', 'lastSeen'] as const) {
      const expected = fullSort(all, sort);
      for (const limit of [1, 3, 7, 40])
        for (const offset of [0, 1, 5, 33, 39, 40, 45]) {
          const page = rows.page(VolunteerQuery.parse({ sort, limit, offset }));
          expect(page.total).toBe(40);
          expect(page.volunteers.map((v) => v.id)).toEqual(
            expected.slice(offset, offset + limit),
          );
        }
    }
  });

  test('a rank counts those with more tasks, after every change', () => {
    const rows = new VolunteerRows();
    rows.apply(deltas(40));
    const rankByCount = (id: string) => {
      const all = rows.page(VolunteerQuery.parse({ limit: 500 })).volunteers;
      const me = all.find((v) => v.id === id)!;
      return all.filter((v) => v.tasks > me.tasks).length + 1;
    };
    for (const id of ['v00', 'v07', 'v39'])
      expect(rows.standing(id).rank).toBe(rankByCount(id));
    // v07 gains tasks: its rank and others' follow at once.
    rows.apply([{ ...deltas(40)[1]!, id: 'v07', tasks: 3, busyMs: 1 }]);
    for (const id of ['v00', 'v07', 'v39'])
      expect(rows.standing(id).rank).toBe(rankByCount(id));
    expect(rows.standing('v07')).toMatchObject({ volunteers: 40 });
    expect(rows.standing('nobody')).toEqual({
      tasks: 0,
      busyMs: 0,
      rank: 41,
      volunteers: 41,
    });
  });
});
