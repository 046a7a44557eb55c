// The volunteer's controls in a real tab: pause gives back only what it had not
// started, the CPU share lowers what a tab gives, and the settings survive a reload.
import type { Page } from '@playwright/test';
import {
  expect,
  expectSquares,
  openVolunteer,
  squareInputs,
  test,
} from './fixtures.js';

const doneOn = async (tab: Page) =>
  Number((await tab.getByTestId('done').innerText()).replace(/,/g, ''));

test('pause: the tab stops taking tasks, what it finished is kept, the rest goes back; resume finishes the job', async ({
  context,
  master,
}) => {
  const tab = await openVolunteer(context, master, 2, 'pauser');
  const total = 400;
  const id = await master.submit('pausable', squareInputs(total, 15), {
    backups: false,
  });
  await expect.poll(() => doneOn(tab)).toBeGreaterThan(20);

  await tab.getByTestId('pause').click();
  await expect(tab.locator('[data-phase]')).toHaveAttribute(
    'data-phase',
    'paused',
  );
  await expect(tab.getByTestId('pause')).toHaveText('Resume');
  // The pause ends with the tab's socket closed: it holds nothing and takes nothing.
  await expect.poll(async () => (await master.workers()).length).toBe(0);
  await expect(tab.getByTestId('connection')).toHaveText('paused');
  const job = await master.job(id);
  expect(job.counts.running).toBe(0);
  expect(job.counts.done).toBeLessThan(total);
  expect(job.counts.queued).toBe(total - job.counts.done);
  // Every task the tab finished was sent and recorded (none released): the master's
  // count is what the tab was acknowledged for.
  expect(await doneOn(tab)).toBe(job.counts.done);

  await tab.getByTestId('pause').click();
  await expect(tab.getByTestId('pause')).toHaveText('Pause');
  await master.waitCompleted(id);
  expectSquares(await master.results(id), total);
  await expect.poll(() => doneOn(tab)).toBe(total);
});

test('the CPU share lowers the rate: a tab at 25% gives clearly less than one at 100%, same job, same time', async ({
  context,
  master,
}) => {
  const full = await openVolunteer(context, master, 1, 'share-100');
  const quarter = await openVolunteer(context, master, 1, 'share-25');
  // Changed while running: applies to the live session, no restart.
  await quarter.locator('[data-share="25"]').click();
  await expect(quarter.locator('[data-share="25"]')).toHaveAttribute(
    'aria-checked',
    'true',
  );
  await expect.poll(async () => (await master.workers()).length).toBe(2);
  const id = await master.submit('shared', squareInputs(500, 5), {
    backups: false,
  });
  await master.waitCompleted(id);
  const workers = await master.workers();
  const doneBy = (name: string) =>
    workers.find((w) => w.name === name)?.done ?? 0;
  const slow = doneBy('share-25');
  const fast = doneBy('share-100');
  expect(slow + fast).toBe(500);
  expect(slow).toBeGreaterThan(0);
  // Resting 3 ms for each ms of work: about a third of the other's count (generous).
  expect(slow / fast).toBeLessThan(0.7);
  void full;
});

test('the controls are remembered by the browser across a reload', async ({
  context,
  master,
}) => {
  const tab = await context.newPage();
  await tab.goto(`${master.url}/volunteer?autostart=1`);
  const threads = Number(await tab.getByTestId('threads').innerText());
  const more = tab.getByRole('button', { name: 'More threads' });
  const fewer = tab.getByRole('button', { name: 'Fewer threads' });
  // One step away from the default, whichever way there is room.
  const wanted = (await more.isEnabled()) ? threads + 1 : threads - 1;
  await (wanted > threads ? more : fewer).click();
  await expect(tab.getByTestId('threads')).toHaveText(String(wanted));
  await tab.locator('[data-share="50"]').click();
  // Chromium has the Battery Status API: the option is offered.
  await tab.getByTestId('pause-on-battery').check();
  await tab.getByTestId('pause').click();
  await expect(tab.locator('[data-phase]')).toHaveAttribute(
    'data-phase',
    'paused',
  );

  await tab.reload();
  await expect(tab.getByTestId('pause-on-battery')).toBeChecked();
  await expect(tab.getByTestId('threads')).toHaveText(String(wanted));
  await expect(tab.locator('[data-share="50"]')).toHaveAttribute(
    'aria-checked',
    'true',
  );
  // Still paused: it came back without connecting.
  await expect(tab.locator('[data-phase]')).toHaveAttribute(
    'data-phase',
    'paused',
  );
  await expect(tab.getByTestId('pause')).toHaveText('Resume');
  expect(await master.workers()).toEqual([]);
  await tab.getByTestId('pause').click();
  await expect(tab.getByTestId('connection')).toHaveText('connected');
  const [worker] = await master.workers();
  // The session it opens has the remembered thread count.
  expect(worker?.slots).toBe(wanted);
});
