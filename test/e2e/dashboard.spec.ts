// The dashboard, live: workers of both kinds, progress without reloads, user strings
// as text, cancelling with the token, and a thousand workers.
import WebSocket from 'ws';
import { newKeys, proof } from '../helpers/wire.js';
import {
  expect,
  expectSquares,
  openDashboard,
  openVolunteer,
  PROGRESS_MODULE,
  screenshot,
  squareInputs,
  test,
  TOKEN,
} from './fixtures.js';

test('a Node worker and a tab share a job; the dashboard shows both and progress to 100% live', async ({
  page,
  context,
  master,
}) => {
  await openDashboard(page, master);
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });

  master.startNodeWorker(1, 'node-e2e');
  await openVolunteer(context, master, 1, 'tab-e2e');

  const table = page.locator('colony-worker-table');
  await expect(table.locator('[data-kind="node"] .name')).toHaveText(
    'node-e2e',
  );
  await expect(table.locator('[data-kind="browser"] .name')).toHaveText(
    'tab-e2e',
  );
  await expect(table.locator('[data-kind="node"] .kind .badge')).toHaveText(
    'node',
  );
  await expect(table.locator('[data-kind="browser"] .kind .badge')).toHaveText(
    'browser',
  );
  // Where each runs task code: the Node worker's `auto` sandbox, the tab's Web Workers.
  await expect(table.locator('[data-kind="node"] .sandbox .badge')).toHaveText(
    /^(bwrap|permission)$/,
  );
  await expect(
    table.locator('[data-kind="browser"] .sandbox .badge'),
  ).toHaveText('browser');
  await expect(page.getByTestId('worker-count')).toHaveText('2');
  // Each name whole beside the fixed columns, in the left column of a 1280-pixel
  // window (the fixed columns once left it no width at all).
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const cell of await table.locator('.row .ellipsis').all())
    expect(
      await cell.evaluate((el) => {
        const name = el.querySelector('.name')!.getBoundingClientRect();
        return {
          room: el.clientWidth >= 120,
          whole: name.right <= el.getBoundingClientRect().right + 0.5,
        };
      }),
    ).toEqual({ room: true, whole: true });
  await page.setViewportSize({ width: 1400, height: 900 });

  const id = await master.submit('shared-job', squareInputs(400, 20));
  const row = page.locator(`colony-job-list li[data-job="${id}"]`);
  const bar = row.getByRole('progressbar');
  await expect(row.locator('.name')).toHaveText('shared-job');
  // Progress rises through intermediate values, then reaches 100%.
  await expect
    .poll(
      async () => {
        const value = Number(await bar.getAttribute('aria-valuenow'));
        return value > 0 && value < 100;
      },
      { intervals: [50] },
    )
    .toBe(true);
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(row.locator('.badge').first()).toHaveText('completed');

  expect(
    await page.evaluate(
      () => (window as unknown as { sameDocument?: boolean }).sameDocument,
    ),
  ).toBe(true);
  expectSquares(await master.results(id), 400);
  const workers = await master.workers();
  expect(workers.map((w) => w.kind).sort()).toEqual(['browser', 'node']);
  for (const worker of workers) expect(worker.done).toBeGreaterThan(0);
});

for (const kind of ['node', 'browser'] as const) {
  test(`progress reported inside long tasks moves the bar before any task is done (${kind} worker)`, async ({
    page,
    context,
    master,
  }) => {
    await openDashboard(page, master);
    if (kind === 'node') master.startNodeWorker(2, 'node-progress');
    else await openVolunteer(context, master, 2, 'tab-progress');
    await expect(page.getByTestId('worker-count')).toHaveText('1');

    // Two tasks of ~3 s each: without progress the bar would stay at 0 until one of
    // them ends, then jump to 50.
    const id = await master.submit(
      'long-tasks',
      [0, 1].map((x) => ({ x, spinMs: 3_000 })),
      { timeoutMs: 60_000 },
      PROGRESS_MODULE,
    );
    const row = page.locator(`colony-job-list li[data-job="${id}"]`);
    await expect(row.locator('.name')).toHaveText('long-tasks');
    // Bar value and done count read in one go, from the same render.
    const read = () =>
      row.evaluate((li) => {
        const bar = li
          .querySelector('colony-progress-bar')
          ?.shadowRoot?.querySelector('[role="progressbar"]');
        return {
          value: Number(bar?.getAttribute('aria-valuenow') ?? 'NaN'),
          done: li.querySelector('.key.done')?.textContent?.trim() ?? '',
        };
      });
    const seen: { value: number; done: string }[] = [];
    await expect
      .poll(
        async () => {
          const state = await read();
          seen.push(state);
          return state.value > 0 && state.done === '0 done';
        },
        { intervals: [100], timeout: 10_000 },
      )
      .toBe(true);
    // It keeps rising while the tasks run, and ends at 100.
    const first = seen.at(-1)?.value ?? 0;
    await expect
      .poll(async () => (await read()).value, { intervals: [100] })
      .toBeGreaterThan(first);
    await master.waitCompleted(id);
    await expect(row.getByRole('progressbar')).toHaveAttribute(
      'aria-valuenow',
      '100',
    );
    expectSquares(await master.results(id), 2);
    expect((await master.job(id)).partial).toBe(0);
  });
}

test('job and worker names with markup are shown as text and run no script', async ({
  page,
  context,
  master,
}) => {
  const JOB = '<img src=x onerror=alert(1)>';
  const WORKER = '<script>alert(2)</script><b onmouseover=alert(3)>w</b>';
  const dialogs: string[] = [];
  context.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });

  await openDashboard(page, master);
  const tab = await openVolunteer(context, master, 1, WORKER);
  tab.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });

  const id = await master.submit(JOB, squareInputs(40, 25), { maxAttempts: 1 });
  const name = page.locator(`colony-job-list li[data-job="${id}"] .name`);
  await expect(name).toHaveText(JOB);
  await expect(name).toBeVisible();
  await expect(page.getByText(JOB, { exact: true }).first()).toBeVisible();
  await expect(page.locator('colony-worker-table .row .name')).toHaveText(
    WORKER,
  );
  await expect(tab.getByTestId('job')).toHaveText(JOB);
  await expect(
    page.locator('colony-event-feed').getByText(JOB).first(),
  ).toBeVisible();
  await master.waitCompleted(id);

  await page.locator('colony-worker-table .row .name').hover();
  await expect(page.locator('img')).toHaveCount(0);
  await expect(page.locator('colony-worker-table b')).toHaveCount(0);
  await expect(tab.locator('img')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test('cancelling asks for the token, refuses a wrong one, and keeps it out of URLs and localStorage', async ({
  page,
  master,
  pageErrors,
}) => {
  await openDashboard(page, master);
  // No workers: both jobs stay queued until cancelled.
  const first = await master.submit('cancel-me', squareInputs(1_000));
  const second = await master.submit('cancel-me-too', squareInputs(10));

  const dialog = page.locator('colony-token-dialog dialog');
  const row = page.locator(`colony-job-list li[data-job="${first}"]`);
  await row.getByRole('button', { name: /Cancel job/ }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toHaveText('Cancel “cancel-me”?');

  await dialog.locator('input[type=password]').fill('not-the-token');
  await dialog.getByRole('button', { name: 'Cancel job' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(
    'The master refused this token.',
  );
  expect((await master.job(first)).state).toBe('running');
  // The browser logs the refused request; that one is expected.
  const refused = pageErrors.findIndex((e) => e.includes('401 (Unauthorized)'));
  expect(refused).toBeGreaterThanOrEqual(0);
  pageErrors.splice(refused, 1);

  await dialog.locator('input[type=password]').fill(TOKEN);
  await screenshot(page, 'dashboard-cancel-dialog-1400');
  await dialog.getByRole('button', { name: 'Cancel job' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.locator('.badge').first()).toHaveText('cancelled');
  expect((await master.job(first)).state).toBe('cancelled');

  // The token is held for this tab only: the second cancel does not ask again.
  const row2 = page.locator(`colony-job-list li[data-job="${second}"]`);
  await row2.getByRole('button', { name: /Cancel job/ }).click();
  await expect(
    dialog.getByText('Using the token this tab holds.'),
  ).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel job' }).click();
  await expect(row2.locator('.badge').first()).toHaveText('cancelled');

  expect(page.url()).not.toContain(TOKEN);
  const storage = await page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
  }));
  expect(storage.local).not.toContain(TOKEN);
  expect(storage.cookie).not.toContain(TOKEN);
  expect(storage.session).toContain(TOKEN);
});

test('a thousand workers and a 100,000-task job: counted in full, only visible rows rendered', async ({
  page,
  master,
}) => {
  const wsUrl = `${master.url.replace(/^http/, 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  const keys = newKeys();
  const join = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl);
      sockets.push(socket);
      // First the master's challenge: sign it (a volunteer per socket), then welcome.
      socket.once('message', (data: Buffer) => {
        const { nonce } = JSON.parse(data.toString()) as { nonce: string };
        socket.send(
          JSON.stringify({
            type: 'hello',
            protocol: 3,
            kind: i % 3 === 0 ? 'node' : 'browser',
            slots: 1 + (i % 4),
            name: `fake-${String(i).padStart(4, '0')}`,
            volunteer: proof(keys, new URL(wsUrl).host, nonce),
          }),
        );
        socket.once('message', () => resolve()); // welcome
      });
      socket.once('error', reject);
    });
  try {
    for (let batch = 0; batch < 1_000; batch += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => join(batch + k)));
    }
    // 1 ms a task: one worker thread needs 100 s, so the job is still running when
    // the test cancels it.
    const id = await master.submit(
      'hundred-thousand',
      squareInputs(100_000, 1),
    );
    master.startNodeWorker(1, 'the-real-one');

    await page.goto(`${master.url}/`);
    await expect(page.getByTestId('worker-count')).toHaveText('1,001');
    const row = page.locator(`colony-job-list li[data-job="${id}"]`);
    await expect(row.locator('.k').first()).toContainText('/100,000');
    await expect
      .poll(async () =>
        Number(
          await row.getByRole('progressbar').getAttribute('aria-valuenow'),
        ),
      )
      .toBeGreaterThan(0);

    const table = page.locator('colony-worker-table');
    expect(await table.locator('.row').count()).toBeLessThanOrEqual(30);
    await table.getByRole('button', { name: 'Name' }).click();
    await expect(table.locator('.row .name').first()).toHaveText('fake-0000');
    await table.locator('.viewport').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect(table.getByText('the-real-one')).toBeVisible();
    await expect(table.getByText('fake-0999')).toBeVisible();
    expect(await table.locator('.row').count()).toBeLessThanOrEqual(30);
    await screenshot(page, 'dashboard-1000-workers-1400');
    await master.cancel(id);
    await expect(row.locator('.badge').first()).toHaveText('cancelled');
  } finally {
    for (const socket of sockets) socket.terminate();
  }
});
