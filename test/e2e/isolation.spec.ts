// Task code in a volunteer tab is cut off from the network and from starting workers:
// a probe task tries every way out it has, and each one is refused by the task
// worker's CSP (or does not exist in a module worker), while an ordinary job in the
// same tab completes.
import { createHash } from 'node:crypto';
import {
  expect,
  expectSquares,
  openVolunteer,
  squareInputs,
  test,
} from './fixtures.js';

/**
 * Tries each way out and returns, per attempt, `allowed: …` or `refused: …`, and the
 * CSP violations the worker saw. A nested worker that starts posts 'ran' (the module's
 * first line, run only when it is a nested worker's script), so a refusal is told
 * apart from a worker that merely stayed silent.
 */
const PROBE_MODULE = `
if (self.name === 'nested-probe') self.postMessage('ran');

const violations = [];
self.addEventListener('securitypolicyviolation', (event) => {
  violations.push(event.effectiveDirective + ' ' + event.blockedURI);
});

function describe(error) {
  return 'refused: ' + (error && error.name) + ': ' + String(error && error.message).slice(0, 160);
}

async function attempt(run) {
  try {
    return 'allowed: ' + String(await run());
  } catch (error) {
    return describe(error);
  }
}

/** A worker that must say 'ran' to count as started; its error event is a refusal. */
function startWorker(url, options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, options);
    worker.onmessage = (event) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error('error event: ' + (event.message || 'the worker did not start')));
    };
  });
}

function openSocket(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.onopen = () => {
      socket.close();
      resolve('open');
    };
    socket.onerror = () => reject(new Error('error event'));
  });
}

function openEventSource(url) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    source.onopen = () => {
      source.close();
      resolve('open');
    };
    source.onerror = () => {
      source.close();
      reject(new Error('error event'));
    };
  });
}

function xhr(url) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('GET', url);
    request.onload = () => resolve(request.status);
    request.onerror = () => reject(new Error('error event'));
    request.send();
  });
}

export default async function (input) {
  if (!input.probe) return input.x * input.x;
  const origin = self.location.origin;
  const blobScript = URL.createObjectURL(
    new Blob(["self.postMessage('ran')"], { type: 'text/javascript' }),
  );
  const blobModule = URL.createObjectURL(
    new Blob(['export default 1'], { type: 'text/javascript' }),
  );
  const attempts = {
    fetch: await attempt(() => fetch(origin + '/healthz').then((r) => r.status)),
    fetchElsewhere: await attempt(() => fetch('https://example.com/').then((r) => r.status)),
    xhr: await attempt(() => xhr(origin + '/healthz')),
    webSocket: await attempt(() => openSocket(origin.replace(/^http/, 'ws') + '/ws')),
    eventSource: await attempt(() => openEventSource(origin + '/healthz')),
    importScripts: await attempt(() => {
      importScripts(origin + '/modules/' + input.ownHash + '.js');
      return 'imported';
    }),
    nestedWorker: await attempt(() =>
      startWorker(origin + '/modules/' + input.ownHash + '.js', {
        type: 'module',
        name: 'nested-probe',
      }),
    ),
    blobWorker: await attempt(() => startWorker(blobScript)),
    dataImport: await attempt(() =>
      import('data:text/javascript,export default 1').then((m) => m.default),
    ),
    blobImport: await attempt(() => import(blobModule).then((m) => m.default)),
  };
  // Violation events are queued as tasks: let them arrive before reporting.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return { attempts, violations };
}
`;

interface Probe {
  attempts: Record<string, string>;
  violations: string[];
}

// The CSP refusals are reported by Chromium on the console as errors, which is what
// this test provokes: those (and only those) are not page errors here.
test.use({
  pageErrors: async ({ context }, use) => {
    const errors: string[] = [];
    context.on('console', (message) => {
      const text = message.text();
      const provoked =
        /Content Security Policy|Refused to (connect|create a worker|load)|WebSocket connection to .* failed|Failed to fetch dynamically imported module|importScripts|EventSource/i.test(
          text,
        );
      if (message.type() === 'error' && !provoked)
        errors.push(`console: ${text}`);
    });
    context.on('weberror', (error) =>
      errors.push(`uncaught: ${error.error().message}`),
    );
    await use(errors);
    expect(errors, 'console errors in the pages').toEqual([]);
  },
});

test('task code in a volunteer tab can reach no network and start no worker; an ordinary job in the same tab completes', async ({
  context,
  master,
}) => {
  const tab = await openVolunteer(context, master, 1, 'isolated');
  await expect.poll(async () => (await master.workers()).length).toBe(1);

  const ownHash = createHash('sha256').update(PROBE_MODULE).digest('hex');
  const probeJob = await master.submit(
    'isolation-probe',
    [{ probe: true, ownHash }],
    { timeoutMs: 60_000, maxAttempts: 1 },
    PROBE_MODULE,
  );
  await master.waitCompleted(probeJob);
  const [line] = await master.results(probeJob);
  expect(line, 'the probe task ran and reported').toMatchObject({ ok: true });
  const probe = (line as { output: Probe }).output;

  const expected = [
    'fetch',
    'fetchElsewhere',
    'xhr',
    'webSocket',
    'eventSource',
    'importScripts',
    'nestedWorker',
    'blobWorker',
    'dataImport',
    'blobImport',
  ];
  expect(Object.keys(probe.attempts).sort()).toEqual([...expected].sort());
  const allowed = Object.entries(probe.attempts).filter(
    ([, outcome]) => !outcome.startsWith('refused: '),
  );
  expect(allowed, 'attempts that got out').toEqual([]);
  // Refused by the policy, not by chance: one violation per attempt (importScripts
  // does not exist in a module worker at all): five connections, two workers, two
  // imports.
  const directives = probe.violations.map((v) => v.split(' ')[0]).sort();
  expect(directives, probe.violations.join('\n')).toEqual([
    ...Array<string>(5).fill('connect-src'),
    ...Array<string>(2).fill('script-src-elem'),
    ...Array<string>(2).fill('worker-src'),
  ]);
  expect(probe.attempts.importScripts).toContain('importScripts');

  // The same tab still computes an ordinary job.
  const squares = await master.submit('after-probe', squareInputs(50));
  await master.waitCompleted(squares);
  expectSquares(await master.results(squares), 50);
  await expect(tab.getByTestId('job')).toHaveText('after-probe');
});
