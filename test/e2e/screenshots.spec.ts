// Screenshots of both pages at desktop and phone widths, in a busy state: a big job
// running, a finished one, one with failures (errors expanded), both worker kinds.
import {
  expect,
  openVolunteer,
  screenshot,
  squareInputs,
  test,
  type SquareInput,
} from './fixtures.js';

test('screenshots of the dashboard and the volunteer page, 1400×900 and 390 wide', async ({
  page,
  context,
  master,
}) => {
  master.startNodeWorker(1, 'lab-server-01');
  const tab = await openVolunteer(context, master, 2);

  const done = await master.submit('word-count · chapter 1', squareInputs(300));
  await master.waitCompleted(done);
  const flaky: SquareInput[] = squareInputs(120, 2).map((input) => ({
    ...input,
    throwFor: [3, 17, 42, 77, 101],
  }));
  const failing = await master.submit('parse-logs (with bad lines)', flaky, {
    maxAttempts: 1,
  });
  await master.waitCompleted(failing);
  const big = await master.submit(
    'image-tiles · 100k',
    squareInputs(100_000, 3),
  );

  await page.goto(`${master.url}/`);
  const bigRow = page.locator(`colony-job-list li[data-job="${big}"]`);
  await expect
    .poll(async () =>
      Number(
        await bigRow.getByRole('progressbar').getAttribute('aria-valuenow'),
      ),
    )
    .toBeGreaterThan(0);
  await expect(bigRow.locator('.metric .v').nth(2)).not.toHaveText('—'); // an ETA
  const failRow = page.locator(`colony-job-list li[data-job="${failing}"]`);
  await failRow.getByRole('button', { name: /Show errors/ }).click();
  await expect(failRow.getByRole('listitem').first()).toContainText('refusing');
  // A few seconds of history on the chart.
  await expect
    .poll(async () =>
      page
        .locator('colony-throughput-chart')
        .evaluate(
          (el) => (el as unknown as { points: unknown[] }).points.length,
        ),
    )
    .toBeGreaterThan(4);

  await screenshot(page, 'dashboard-1400x900');
  await screenshot(page, 'dashboard-1400-full', true);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'dashboard-1400x900-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.locator('colony-throughput-chart canvas')).toBeVisible();
  await screenshot(page, 'dashboard-390', true);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'dashboard-390-dark', true);

  await expect(tab.getByTestId('job')).toHaveText('image-tiles · 100k');
  await screenshot(tab, 'volunteer-1400x900');
  await tab.emulateMedia({ colorScheme: 'dark' });
  await screenshot(tab, 'volunteer-1400x900-dark');
  await tab.emulateMedia({ colorScheme: 'light' });
  await tab.setViewportSize({ width: 390, height: 844 });
  await screenshot(tab, 'volunteer-390', true);
  await tab.emulateMedia({ colorScheme: 'dark' });
  await screenshot(tab, 'volunteer-390-dark', true);
  // Paused, at 50%: the state and the controls as a volunteer who held back sees them.
  await tab.locator('[data-share="50"]').click();
  await tab.getByTestId('pause').click();
  await expect(tab.locator('[data-phase]')).toHaveAttribute(
    'data-phase',
    'paused',
  );
  await screenshot(tab, 'volunteer-390-dark-paused', true);
  await tab.emulateMedia({ colorScheme: 'light' });
  await tab.setViewportSize({ width: 1400, height: 900 });
  await screenshot(tab, 'volunteer-1400x900-paused');

  await master.cancel(big);
});
