/**
 * The protocol as an outsider sees it: a real master process and a plain `ws` client
 * that writes frames by hand, as docs/protocol.md describes them. Nothing here imports
 * colony code, so that the conformance test checks the document, not our own decoder.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { assertTestRunning } from './test-running.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/colony.mjs');
const TOKEN = 'wire-token-0123456789';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface WireMaster {
  url: string;
  /** Sends SIGTERM (a graceful shutdown). */
  stop(): void;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** `colony master` on port 0 as a child process, killed when the test ends. */
export async function startWireMaster(
  extra: string[] = [],
  dataDir?: string,
): Promise<WireMaster> {
  assertTestRunning('colony master');
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'colony-wire-'));
  const child = spawn(
    process.execPath,
    [CLI, 'master', '--port', '0', '--data', dir, '--token', TOKEN, ...extra],
    {
      env: { ...process.env, COLONY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', resolve),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /dashboard: (\S+?)\/?(\s|$)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) =>
      reject(new Error(`master exited (${code}): ${err}`)),
    );
  });
  return { url, stop: () => child.kill('SIGTERM'), exited };
}

/** A volunteer's key pair (ECDSA P-256), as docs/protocol.md describes it. */
export interface WireKeys {
  privateKey: KeyObject;
  /** base64 SPKI (DER). */
  publicKey: string;
}

export function newKeys(): WireKeys {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey
      .export({ type: 'spki', format: 'der' })
      .toString('base64'),
  };
}

/** `hello.volunteer`: the signature of the documented string, P1363 (r || s), base64. */
export function proof(
  keys: WireKeys,
  host: string,
  nonce: string,
): { publicKey: string; signature: string } {
  const text = `colony-hello\nprotocol=3\nhost=${host}\nnonce=${nonce}`;
  const signature = sign('sha256', Buffer.from(text), {
    key: keys.privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64');
  return { publicKey: keys.publicKey, signature };
}

export interface WirePeer {
  socket: WebSocket;
  /**
   * Sends a message as JSON. A `hello` without `volunteer` gets this peer's proof for
   * the challenge, as every worker signs it; use `socket.send` to send one unsigned.
   */
  send(message: unknown): void;
  /** The master's first frame, read by `connect`. */
  challenge: Frame;
  /** This peer's key pair (a volunteer of its own unless `keys` was given). */
  keys: WireKeys;
  /** The next frame from the master (text frames, parsed). */
  next(): Promise<Frame>;
  /** The next frame, which must be of this type. */
  expect(type: string): Promise<Frame>;
  /**
   * Every frame the master sent before this call was handled: sends a frame the master
   * must refuse and returns what came before the refusal. The master handles a socket's
   * frames in order and answers at once, so anything it would send in reply to earlier
   * frames arrives first. The first E_INVALID_MESSAGE after the call is taken as the
   * fence's answer. (Each fence counts as one invalid message of the 20 allowed.)
   */
  fence(): Promise<Frame[]>;
  /** Frames received and not yet read. */
  pending(): Frame[];
  closed: Promise<{ code: number; reason: string }>;
}

export async function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
  keys: WireKeys = newKeys(),
): Promise<WirePeer> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, {
    perMessageDeflate: false,
    ...options,
  });
  socket.on('error', () => undefined);
  const queue: Frame[] = [];
  const waiters: ((frame: Frame) => void)[] = [];
  socket.on('message', (data, isBinary) => {
    const bytes = data as Buffer;
    const frame = isBinary
      ? unpackBinary(bytes)
      : (JSON.parse(bytes.toString()) as Frame);
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) =>
      resolve({ code, reason: reason.toString() }),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  onTestFinished(() => socket.terminate());
  const next = (): Promise<Frame> =>
    new Promise((resolve, reject) => {
      const frame = queue.shift();
      if (frame) return resolve(frame);
      waiters.push(resolve);
      void closed.then(({ code }) =>
        reject(new Error(`socket closed (${code})`)),
      );
    });
  const challenge = await next();
  if (challenge.type !== 'challenge')
    throw new Error(`expected a challenge first, got ${challenge.type}`);
  const host = new URL(url).host;
  const signed = (message: unknown): unknown => {
    const m = message as Record<string, unknown> | null;
    if (m?.type !== 'hello' || 'volunteer' in m) return message;
    return { ...m, volunteer: proof(keys, host, challenge.nonce as string) };
  };
  return {
    socket,
    challenge,
    keys,
    send: (message) => socket.send(JSON.stringify(signed(message))),
    next,
    async expect(type) {
      const frame = await next();
      if (frame.type !== type)
        throw new Error(
          `expected ${type}, got ${JSON.stringify(frame).slice(0, 300)}`,
        );
      return frame;
    },
    async fence() {
      socket.send('{"type":"fence"}');
      const before: Frame[] = [];
      for (;;) {
        const frame = await next();
        if (frame.type === 'error' && frame.code === 'E_INVALID_MESSAGE')
          return before;
        before.push(frame);
      }
    },
    pending: () => queue.splice(0),
    closed,
  };
}

/**
 * A binary frame, as docs/protocol.md lays it out: [u32 LE H][H bytes of JSON header
 * {"m": message, "b": [blob lengths]}][blobs], each blob standing for `{"$bin": k}` in m.
 */
export function unpackBinary(bytes: Buffer): Frame {
  const length = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as {
    m: Frame;
    b: number[];
  };
  const blobs: Buffer[] = [];
  let at = 4 + length;
  for (const size of header.b) {
    blobs.push(bytes.subarray(at, at + size));
    at += size;
  }
  return JSON.parse(JSON.stringify(header.m), (_key, value: unknown) =>
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length === 1 &&
    '$bin' in value
      ? blobs[(value as { $bin: number }).$bin]
      : value,
  ) as Frame;
}

/** Packs a message whose byte strings are given as `{"$bin": k}` with their blobs. */
export function packBinary(message: unknown, blobs: Buffer[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({ m: message, b: blobs.map((b) => b.length) }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  return Buffer.concat([length, header, ...blobs]);
}

/** A worker past its handshake: `hello` sent, `welcome` read. */
export async function worker(
  url: string,
  slots = 1,
): Promise<WirePeer & { welcome: Frame }> {
  const peer = await connect(url);
  peer.send({ type: 'hello', protocol: 3, kind: 'node', slots });
  const welcome = await peer.expect('welcome');
  return { ...peer, welcome };
}

/** A task of a `tasks` frame, read from its columns. */
export interface WireTask {
  job: string;
  lease: number;
  index: number;
  attempt: number;
  input: unknown;
  timeoutMs: number;
}

/** The tasks of one `tasks` frame, group by group, column by column. */
export function tasksOf(frame: Frame): WireTask[] {
  const jobs = frame.jobs as Record<string, { timeoutMs: number }>;
  const groups = frame.groups as {
    job: string;
    leases: number[];
    indexes: number[];
    attempts: number[];
    inputs: unknown[];
  }[];
  return groups.flatMap((g) =>
    g.leases.map((lease, i) => ({
      job: g.job,
      lease,
      index: g.indexes[i] as number,
      attempt: g.attempts[i] as number,
      input: g.inputs[i],
      timeoutMs: (jobs[g.job] as { timeoutMs: number }).timeoutMs,
    })),
  );
}

/** Reads `tasks` frames until `count` tasks came. */
export async function takeTasks(
  peer: WirePeer,
  count: number,
): Promise<WireTask[]> {
  const tasks: WireTask[] = [];
  while (tasks.length < count)
    tasks.push(...tasksOf(await peer.expect('tasks')));
  return tasks;
}

export const MODULE = 'export default (x) => x * 2;\n';

async function api(
  url: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** `POST /api/jobs`; returns the job id. */
export async function submit(
  url: string,
  inputs: unknown[],
  options: Record<string, number> = {},
  module = MODULE,
): Promise<string> {
  const response = await api(url, 'POST', '/api/jobs', {
    name: 'wire',
    module,
    inputs,
    options,
  });
  if (response.status !== 201)
    throw new Error(`submit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

export async function cancelJob(url: string, id: string): Promise<void> {
  const response = await api(url, 'DELETE', `/api/jobs/${id}`);
  if (!response.ok) throw new Error(`cancel: ${response.status}`);
}

/** The results NDJSON of an ended job, as raw lines (waits for the end). */
export async function resultLines(url: string, id: string): Promise<string[]> {
  const response = await api(url, 'GET', `/api/jobs/${id}/results?follow=1`);
  return (await response.text()).split('\n').filter((line) => line.length > 0);
}

export async function workersOf(url: string): Promise<{ id: string }[]> {
  return (await (await fetch(`${url}/api/workers`)).json()) as { id: string }[];
}
