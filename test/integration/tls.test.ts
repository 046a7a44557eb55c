/**
 * TLS built in: `colony master --tls-cert --tls-key` serves HTTPS and WSS on one port,
 * a `colony worker https://...` trusting a private CA through NODE_EXTRA_CA_CERTS
 * completes a job, and the certificate files are read again on SIGHUP.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  FIXTURES,
  spawnColony,
  spawnMaster,
  tempDir,
  waitForOutput,
} from '../helpers/master.js';
import { httpsRequest, makeCa, makeServerCert } from '../helpers/tls-certs.js';

const get = (url: string, ca?: string) => httpsRequest(url, ca ? { ca } : {});

/** SHA-256 fingerprint of the certificate the server presents. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        port,
        host: '127.0.0.1',
        servername: 'localhost',
        ca: readFileSync(ca),
      },
      () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

const fingerprintOf = (file: string) =>
  new X509Certificate(readFileSync(file)).fingerprint256;

describe('TLS', () => {
  test('HTTPS and WSS on one port: a Node worker over https:// with a private CA completes a job', async () => {
    const dir = tempDir();
    const ca = makeCa(dir);
    const server = makeServerCert(ca, 'server');
    const master = await spawnMaster(path.join(dir, 'data'), [
      '--tls-cert',
      server.cert,
      '--tls-key',
      server.key,
    ]);
    expect(master.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(master.stdout()).toContain(`npx colony worker ${master.url}`);
    // A client that does not trust the CA is refused: this really is TLS.
    await expect(get(`${master.url}/healthz`)).rejects.toThrow(/certificate/);
    expect((await get(`${master.url}/healthz`, ca.caCert)).status).toBe(200);

    const trusting = { NODE_EXTRA_CA_CERTS: ca.caCert };
    spawnColony(['worker', master.url, '--threads', '2'], trusting);
    const inputs = path.join(dir, 'inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify(Array.from({ length: 20 }, (_, x) => ({ x }))),
    );
    const out = path.join(dir, 'results.jsonl');
    const submit = spawnColony(
      [
        'submit',
        path.join(FIXTURES, 'square.mjs'),
        '--inputs',
        inputs,
        '--url',
        master.url,
        '--token',
        'test-token-0123456789',
        '--wait',
        '--out',
        out,
      ],
      trusting,
    );
    expect(await submit.exited, submit.stderr()).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; output: number });
    expect(lines).toHaveLength(20);
    for (const line of lines) expect(line.output).toBe(line.index ** 2);
  });

  test('SIGHUP re-reads the certificate; a bad file keeps the old one and logs an error', async () => {
    const dir = tempDir();
    const ca = makeCa(dir);
    const first = makeServerCert(ca, 'first');
    const second = makeServerCert(ca, 'second');
    const live = {
      cert: path.join(dir, 'live.pem'),
      key: path.join(dir, 'live.key'),
    };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    const master = await spawnMaster(path.join(dir, 'data'), [
      '--tls-cert',
      live.cert,
      '--tls-key',
      live.key,
      '--log-level',
      'info',
    ]);
    const port = Number(new URL(master.url).port);
    expect(await servedFingerprint(port, ca.caCert)).toBe(
      fingerprintOf(first.cert),
    );

    // Renewal: new files in place, then SIGHUP (as a certbot deploy hook does).
    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    master.child.kill('SIGHUP');
    await waitForOutput(
      master,
      (text) => text.includes('tls certificate reloaded'),
      'stderr',
    );
    expect(await servedFingerprint(port, ca.caCert)).toBe(
      fingerprintOf(second.cert),
    );

    // A broken renewal: the key no longer fits, so the running certificate stays.
    copyFileSync(first.key, live.key);
    master.child.kill('SIGHUP');
    await waitForOutput(
      master,
      (text) => text.includes('tls reload failed'),
      'stderr',
    );
    expect(await servedFingerprint(port, ca.caCert)).toBe(
      fingerprintOf(second.cert),
    );
    writeFileSync(live.cert, 'not a certificate\n');
    master.child.kill('SIGHUP');
    await waitForOutput(
      master,
      (text) => text.split('tls reload failed').length === 3,
      'stderr',
    );
    expect((await get(`${master.url}/healthz`, ca.caCert)).status).toBe(200);
    expect(master.child.exitCode).toBeNull();
  });

  test('a certificate file that cannot be read stops the master with a clear message', async () => {
    const dir = tempDir();
    const run = spawnColony([
      'master',
      '--port',
      '0',
      '--data',
      path.join(dir, 'data'),
      '--tls-cert',
      path.join(dir, 'missing.pem'),
      '--tls-key',
      path.join(dir, 'missing.key'),
    ]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(/cannot use --tls-cert .*missing\.pem/);
    const half = spawnColony(['master', '--port', '0', '--tls-cert', 'x.pem']);
    expect(await half.exited).toBe(2);
    expect(half.stderr()).toContain(
      '--tls-cert and --tls-key must be given together',
    );
  });
});
