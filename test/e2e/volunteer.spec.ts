// Browser tabs as workers: the volunteer page computes real jobs in its Web Workers,
// and the master hands the work of a closed tab to the others.
import {
  expect,
  expectSquares,
  openVolunteer,
  squareInputs,
  test,
} from './fixtures.js';

test('two volunteer tabs complete a 500-task job, every result correct and once', async ({
  context,
  master,
}) => {
  const tabs = [
    await openVolunteer(context, master, 1, 'tab-a'),
    await openVolunteer(context, master, 1, 'tab-b'),
  ];
  await expect.poll(async () => (await master.workers()).length).toBe(2);
  // Cross-origin isolated: the tab's task threads share their "running" slot with it.
  for (const tab of tabs) {
    expect(await tab.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  }

  // No backup copies: the tabs' own counts (acked results) must then add up to the job.
  const id = await master.submit('squares-500', squareInputs(500, 4), {
    backups: false,
  });
  await master.waitCompleted(id);

  expectSquares(await master.results(id), 500);
  const workers = await master.workers();
  expect(workers.map((w) => w.kind)).toEqual(['browser', 'browser']);
  for (const worker of workers) expect(worker.done).toBeGreaterThan(0);

  // Each tab shows the job it worked on, and together they show every task acked. A
  // tab counts every result the master acked to it, a failed attempt's too (on a loaded
  // machine a task may fail once, e.g. its thread lost, and be redone): the sum may pass
  // 500 then, while the job's results above are each recorded exactly once.
  for (const tab of tabs) {
    await expect(tab.getByTestId('job')).toHaveText('squares-500');
  }
  await expect
    .poll(async () => {
      let sum = 0;
      for (const tab of tabs) {
        sum += Number(
          (await tab.getByTestId('done').innerText()).replace(/,/g, ''),
        );
      }
      return sum;
    })
    .toBeGreaterThanOrEqual(500);
});

test('a tab closed mid-job: the other finishes it, every result exactly once', async ({
  context,
  master,
}) => {
  const stays = await openVolunteer(context, master, 1, 'stays');
  const leaves = await openVolunteer(context, master, 1, 'leaves');
  await expect.poll(async () => (await master.workers()).length).toBe(2);

  const id = await master.submit('squares-close', squareInputs(500, 12));
  await expect
    .poll(async () => (await master.job(id)).counts.done, { intervals: [100] })
    .toBeGreaterThanOrEqual(100);
  // Both tabs are busy at this point; closing one drops its held tasks mid-flight.
  await expect(leaves.getByTestId('connection')).toHaveText('connected');
  await leaves.close();

  await expect.poll(async () => (await master.workers()).length).toBe(1);
  await master.waitCompleted(id);
  expectSquares(await master.results(id), 500);
  const job = await master.job(id);
  expect(job.counts).toMatchObject({ total: 500, done: 500, failed: 0 });
  await expect(stays.getByTestId('job')).toHaveText('squares-close');
});

test('the volunteer page and the dashboard reconnect by themselves after the master restarts', async ({
  page,
  context,
  master,
  pageErrors,
}) => {
  await page.goto(`${master.url}/`);
  const badge = page.getByTestId('connection');
  await expect(badge).toHaveAttribute('data-state', 'live');
  const tab = await openVolunteer(context, master, 1, 'comes-back');

  await master.restart(async () => {
    // While the master is down, both pages say so and keep trying.
    await expect(tab.getByTestId('connection')).not.toHaveText('connected');
    await expect(badge).toHaveAttribute('data-state', 'reconnecting');
  });

  await expect(tab.getByTestId('connection')).toHaveText('connected');
  await expect(badge).toHaveAttribute('data-state', 'live');
  await expect(page.locator('colony-worker-table .row .name')).toHaveText(
    'comes-back',
  );
  const id = await master.submit('after-restart', squareInputs(100, 2));
  await master.waitCompleted(id);
  expectSquares(await master.results(id), 100);

  // Failed reconnect attempts are logged by the browser itself; nothing else may be.
  const unexpected = pageErrors.filter(
    (e) => !/WebSocket connection to '.*' failed/.test(e),
  );
  pageErrors.splice(0, pageErrors.length, ...unexpected);
});

test('a volunteer tab keeps its identity across a reload (same volunteer id in /api/workers)', async ({
  context,
  master,
}) => {
  const tab = await openVolunteer(context, master, 1, 'reloads');
  await expect.poll(async () => (await master.workers()).length).toBe(1);
  const [before] = await master.workers();
  expect(before?.volunteer).toMatch(/^[0-9a-f]{16}$/);

  await tab.reload();
  await expect(tab.getByTestId('connection')).toHaveText('connected');
  // A new connection (a new worker id), the same volunteer.
  await expect
    .poll(async () => (await master.workers()).map((w) => w.id))
    .not.toContain(before?.id);
  const after = await master.workers();
  expect(after).toHaveLength(1);
  expect(after[0]?.volunteer).toBe(before?.volunteer);

  // The private key is kept non-extractable: the page can sign, not read it out.
  const extractable = await tab.evaluate(
    () =>
      new Promise<boolean>((resolve, reject) => {
        const open = indexedDB.open('colony', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result
            .transaction('identity')
            .objectStore('identity')
            .get('volunteer');
          get.onsuccess = () =>
            resolve(
              (get.result as { privateKey: CryptoKey }).privateKey.extractable,
            );
          get.onerror = () => reject(get.error);
        };
      }),
  );
  expect(extractable).toBe(false);
});
