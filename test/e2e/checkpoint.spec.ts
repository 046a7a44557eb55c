// Checkpoints in the browser: a tab's task saves its state as it goes, the tab is closed
// mid-task, and a second tab resumes the task from the last checkpoint the master kept.
// The dashboard counts the checkpointed task, then the resume.
import { expect, openDashboard, openVolunteer, test } from './fixtures.js';

/** `steps` steps of `stepMs`, a checkpoint after each; returns where it started from. */
const STEPS_MODULE = `
export default async function (input, ctx) {
  const { steps, stepMs } = input;
  const from = ctx.resumeFrom?.step ?? 0;
  let sum = ctx.resumeFrom?.sum ?? 0;
  for (let step = from; step < steps; step++) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    sum += step;
    ctx.checkpoint({ step: step + 1, sum });
    ctx.progress((step + 1) / steps);
  }
  return { from, sum, attempt: ctx.attempt };
}
`;

const STEPS = 60;

test('a tab closed mid-task: a second tab resumes the task from its checkpoint', async ({
  context,
  master,
  page,
}) => {
  await openDashboard(page, master);
  const first = await openVolunteer(context, master, 1, 'first-tab');
  await expect.poll(async () => (await master.workers()).length).toBe(1);
  const id = await master.submit(
    'long-task',
    [{ steps: STEPS, stepMs: 100 }],
    { backups: false },
    STEPS_MODULE,
  );
  // Halfway (by its progress), with a checkpoint kept: close the tab.
  await expect
    .poll(
      async () => {
        const job = await master.job(id);
        return job.partial >= 0.5 && job.checkpoints?.tasks === 1;
      },
      { intervals: [100] },
    )
    .toBe(true);
  const row = page.locator(`colony-job-list li[data-job="${id}"]`);
  await expect(row.locator('.key.checkpoints')).toContainText('1 checkpointed');
  await first.close();
  await expect.poll(async () => (await master.workers()).length).toBe(0);

  await openVolunteer(context, master, 1, 'second-tab');
  await master.waitCompleted(id);
  const [line] = await master.results(id);
  expect(line).toMatchObject({ index: 0, ok: true });
  const output = (
    line as { output: { from: number; sum: number; attempt: number } }
  ).output;
  // Resumed past halfway, less a second of steps at most, and finished correctly.
  expect(output.from).toBeGreaterThanOrEqual(STEPS / 2 - 11);
  expect(output.from).toBeLessThan(STEPS);
  expect(output.sum).toBe((STEPS * (STEPS - 1)) / 2);
  expect(output.attempt).toBe(2);

  const job = await master.job(id);
  expect(job.checkpoints).toEqual({ tasks: 0, resumed: 1 });
  await expect(row.locator('.key.checkpoints')).toContainText('1 resumed');
  await expect(
    page.locator('colony-event-feed li[data-kind="resumed"]'),
  ).toContainText('resumes from its checkpoint on worker second-tab');
});
