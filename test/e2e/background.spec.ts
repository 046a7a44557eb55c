// A volunteer tab in the background keeps giving: its rate with another tab in front is
// at least 80% of its rate in front. Chromium is driven directly (see raw-chromium.ts)
// so that the tab is really hidden, with Chromium's own timer throttling in force.
import { expect, squareInputs, test, type Master } from './fixtures.js';
import { RawChromium } from './raw-chromium.js';

/** Tasks a measure waits for; the rate is tasks over the time they took. */
const TASKS_PER_MEASURE = 250;

/** Which tab is in front for each measure. */
const SIDES = [
  'front',
  'back',
  'back',
  'front',
  'front',
  'back',
  'back',
  'front',
] as const;

/** The tab's tasks done as the master counts them. */
async function doneBy(master: Master, name: string): Promise<number> {
  const workers = await master.workers();
  return workers.find((w) => w.name === name)?.done ?? 0;
}

/** The next `TASKS_PER_MEASURE` tasks the tab finishes, and the ms they took. */
async function measure(
  master: Master,
  name: string,
): Promise<{ tasks: number; ms: number }> {
  const from = await doneBy(master, name);
  const startedAt = Date.now();
  let done = from;
  // Polled from here, not from the page: a hidden page's own timers are throttled.
  await expect
    .poll(
      async () => {
        done = await doneBy(master, name);
        return done - from;
      },
      { intervals: [20], timeout: 90_000 },
    )
    .toBeGreaterThanOrEqual(TASKS_PER_MEASURE);
  return { tasks: done - from, ms: Date.now() - startedAt };
}

test('a hidden volunteer tab keeps at least 80% of its foreground rate', async ({
  master,
}) => {
  const browser = await RawChromium.launch();
  try {
    const name = 'background-tab';
    const volunteer = await browser.openTab(
      `${master.url}/volunteer?autostart=1&threads=2&name=${name}`,
    );
    await expect.poll(async () => (await master.workers()).length).toBe(1);
    const visibility = () =>
      browser.evaluate(volunteer, 'document.visibilityState');
    expect(await visibility()).toBe('visible');

    // 2 ms of work a task, far more than the measures need (cancelled at the end).
    const id = await master.submit('background', squareInputs(50_000, 2), {
      backups: false,
    });
    // Warmed up (the prefetch window has grown) before the first measure.
    await expect.poll(() => doneBy(master, name)).toBeGreaterThan(300);

    // Front and back in turns (F B B F F B B F): a drift of the machine's load over
    // the test (it is shared) weighs on both sides alike.
    const other = await browser.openTab('about:blank');
    expect(await visibility()).toBe('hidden');
    const measures = {
      front: [] as { tasks: number; ms: number }[],
      back: [] as { tasks: number; ms: number }[],
    };
    for (const side of SIDES) {
      await browser.activate(side === 'front' ? volunteer : other);
      expect(await visibility()).toBe(side === 'front' ? 'visible' : 'hidden');
      measures[side].push(await measure(master, name));
    }
    // Tasks over time on each side (not a mean of rates, which one lucky burst skews).
    const rate = (list: { tasks: number; ms: number }[]) =>
      (list.reduce((sum, m) => sum + m.tasks, 0) * 1_000) /
      list.reduce((sum, m) => sum + m.ms, 0);
    const front = rate(measures.front);
    const back = rate(measures.back);
    const shown = (list: { tasks: number; ms: number }[]) =>
      list.map((m) => ((m.tasks * 1_000) / m.ms).toFixed(0)).join(', ');
    console.log(
      `volunteer tab: ${front.toFixed(0)} tasks/s in front (${shown(measures.front)}), ` +
        `${back.toFixed(0)} tasks/s hidden (${shown(measures.back)}): ${((100 * back) / front).toFixed(0)}%`,
    );
    expect(back).toBeGreaterThanOrEqual(0.8 * front);
    await master.cancel(id);
  } finally {
    await browser.close();
  }
});
