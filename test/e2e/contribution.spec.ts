// What a volunteer has given, shown to it: this browser's totals survive a reload (the
// same key in IndexedDB), the job's description is shown as text (markup in it runs no
// script, on the volunteer page and the dashboard), and a name chosen on the page is
// the one the master keeps.
import type { VolunteerSummary } from '../../shared/volunteers.js';
import {
  expect,
  openDashboard,
  openVolunteer,
  squareInputs,
  SQUARE_MODULE,
  test,
  TOKEN,
  type Master,
} from './fixtures.js';

async function submitDescribed(
  master: Master,
  name: string,
  description: string,
  inputs: unknown[],
): Promise<string> {
  const response = await fetch(`${master.url}/api/jobs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      name,
      description,
      module: SQUARE_MODULE,
      inputs,
      options: { backups: false },
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function volunteers(master: Master): Promise<VolunteerSummary[]> {
  const response = await fetch(`${master.url}/api/volunteers`);
  return (await response.json()) as VolunteerSummary[];
}

test('the page shows this browser’s totals again after a reload', async ({
  context,
  master,
}) => {
  const page = await openVolunteer(context, master, 1, 'tab-totals');
  const id = await submitDescribed(
    master,
    'thirty',
    'Thirty squares',
    squareInputs(30, 5),
  );
  await master.waitCompleted(id);
  await expect(page.getByTestId('total-tasks')).toHaveText('30');
  await expect(page.getByTestId('rank')).toHaveText('#1 of 1');
  const [kept] = await volunteers(master);
  expect(kept).toMatchObject({
    name: 'tab-totals',
    kind: 'browser',
    tasks: 30,
  });
  expect(kept!.busyMs).toBeGreaterThanOrEqual(30 * 4);

  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('connected');
  // A new session of the same volunteer: the master tells it what it gave before.
  await expect(page.getByTestId('total-tasks')).toHaveText('30');
  expect(await volunteers(master)).toHaveLength(1);

  // A name chosen on the page is kept in this browser and sent in hello.
  await page.getByTestId('name-input').fill('  Ada\u0007 Lovelace ');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.goto(`${master.url}/volunteer?autostart=1&threads=1`);
  await expect(page.getByTestId('connection')).toHaveText('connected');
  await expect(page.getByTestId('name-input')).toHaveValue('Ada Lovelace');
  await expect
    .poll(async () => (await master.workers()).map((w) => w.name))
    .toEqual(['Ada Lovelace']);
  await expect
    .poll(async () => (await volunteers(master)).map((v) => v.name))
    .toEqual(['Ada Lovelace']);
});

test('a job’s description is shown as text: markup in it runs no script', async ({
  context,
  master,
  page,
}) => {
  const description =
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Folding <b>proteins</b>';
  const tab = await openVolunteer(context, master, 1, 'tab-text');
  const name =
    'described: a job name long enough that it needs more than one line of the volunteer page';
  const id = await submitDescribed(
    master,
    name,
    description,
    squareInputs(40, 50),
  );
  await expect(tab.getByTestId('description')).toHaveText(description);
  // The name as written, wrapped inside the card (it once ran out past its edge).
  const jobName = tab.getByTestId('job-name');
  await expect(jobName).toHaveText(name);
  expect(
    await jobName.evaluate((el) => ({
      lines: Math.round(el.getBoundingClientRect().height) > 30,
      inside: el.scrollWidth <= el.clientWidth,
    })),
  ).toEqual({ lines: true, inside: true });
  expect(
    await tab.locator('colony-contribution img, colony-contribution b').count(),
  ).toBe(0);
  expect(
    await tab.evaluate(() => 'pwned' in globalThis || '__pwned' in globalThis),
  ).toBe(false);

  await openDashboard(page, master);
  const shown = page.locator(`li[data-job="${id}"] .desc`);
  await expect(shown).toHaveText(description);
  expect(await page.locator(`li[data-job="${id}"] .desc img`).count()).toBe(0);
  expect(await page.evaluate(() => '__pwned' in globalThis)).toBe(false);
  // The top volunteers panel lists the tab once it has given.
  await master.waitCompleted(id);
  await expect(
    page.getByRole('table', { name: 'Top volunteers' }).getByText('tab-text'),
  ).toBeVisible({ timeout: 15_000 });
});
