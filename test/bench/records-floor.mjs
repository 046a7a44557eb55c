// The least extra CPU a ~130-byte JSON record costs over a number on this machine: each
// step any durable, checked run of the record job must take, measured alone and at its
// cheapest (best of `reps`), with none of colony's own code around it:
//
// - client:  JSON.stringify of the submit body (the client has objects to send);
// - validate: the master decodes the body and checks every input (one sticky regex per
//   record, the cheapest check that accepts only valid JSON);
// - sqlite:  the inputs stored in chunk rows of 256, each result in a row of its own,
//   then the WAL checkpointed into the file (the store's schema, WAL, synchronous=NORMAL);
// - task:    the task thread parses a batch's inputs in one JSON.parse, runs the task
//   and stringifies each output;
// - sockets: the extra bytes moved through loopback sockets, 3 hops in (client, master,
//   worker, sandbox) and 2 out, at the CPU per byte measured here for both ends.
//
// Numbers' CPU per task divided by that plus the extra gives the best ratio of records to
// numbers this machine allows while numbers cost what they do: the ceiling of the
// `records vs numbers` bench row. Usage: node test/bench/records-floor.mjs [tasks]
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TEXT = 'lorem ipsum dolor sit amet '.repeat(4);

/** The two kinds of the inputs scenario: their inputs and their task. */
function kinds(tasks) {
  return {
    numbers: {
      inputs: Array.from({ length: tasks }, (_, i) => i),
      task: (x) => x + 1,
      check: NUMBER,
    },
    records: {
      inputs: Array.from({ length: tasks }, (_, i) => ({
        id: `task-${i}`,
        x: i,
        text: TEXT,
      })),
      task: (r) => ({ id: r.id, length: r.text.length, next: r.x + 1 }),
      check: FLAT_OBJECT,
    },
  };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// A flat object of unescaped strings, numbers and literals (as shared/json-flat.ts).
const STRING = String.raw`"[^"\\\u0000-\u001f]*"`;
const MEMBER = `${STRING}:(?:${STRING}|${NUMBER.source}|true|false|null)`;
const FLAT_OBJECT = new RegExp(
  String.raw`\{(?:${MEMBER}(?:,${MEMBER}){0,255})?\}`,
  'y',
);

/** The least CPU µs per task `fn` takes over `reps` runs of `tasks` tasks. */
function cheapest(reps, tasks, fn) {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const before = process.cpuUsage();
    fn();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / tasks);
  }
  return best;
}

/** Decodes a submit body and checks every input of its `inputs` array with `check`. */
function validate(body, check) {
  const text = body.toString('latin1');
  const texts = [];
  let at = text.indexOf('[') + 1;
  while (text.charCodeAt(at) !== 0x5d) {
    check.lastIndex = at;
    if (!check.test(text)) throw new Error(`no valid input at ${at}`);
    texts.push(text.slice(at, check.lastIndex));
    at = check.lastIndex;
    if (text.charCodeAt(at) === 0x2c) at++;
  }
  return texts;
}

/** Stores inputs and results as the SQLite store lays them out, then checkpoints. */
function store(texts, outputs) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'colony-floor-'));
  const db = new Database(path.join(dir, 'colony.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec(`
      CREATE TABLE inputs (jid INTEGER NOT NULL, first INTEGER NOT NULL,
        count INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (jid, first));
      CREATE TABLE results (jid INTEGER NOT NULL, seq INTEGER NOT NULL,
        idx INTEGER NOT NULL, ok INTEGER NOT NULL, output BLOB, error TEXT, code TEXT,
        PRIMARY KEY (jid, seq), UNIQUE (jid, idx)) WITHOUT ROWID`);
    const input = db.prepare('INSERT INTO inputs VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < texts.length; i += 256)
        input.run(1, i, 256, texts.slice(i, i + 256).join(','));
    })();
    const ROWS = 64;
    const result = db.prepare(
      `INSERT OR IGNORE INTO results VALUES ${Array(ROWS).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    // Commits of 2,048 results, as a busy master's group commit makes them.
    for (let i = 0; i + ROWS <= outputs.length; i += 2_048)
      db.transaction(() => {
        for (
          let j = i;
          j < i + 2_048 && j + ROWS <= outputs.length;
          j += ROWS
        ) {
          const values = [];
          for (let k = j; k < j + ROWS; k++)
            values.push(1, k + 1, k, 1, outputs[k], null, null);
          result.run(...values);
        }
      })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU ns per byte of moving bytes through a loopback TCP socket, both ends counted. */
async function socketNsPerByte(totalBytes = 256 * 2 ** 20) {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const received = new Promise((resolve) =>
    server.once('connection', (socket) => {
      let got = 0;
      socket.on('data', (chunk) => {
        got += chunk.length;
      });
      socket.on('end', () => resolve(got));
    }),
  );
  const before = process.cpuUsage();
  const socket = net.connect(server.address().port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
      socket.end(resolve);
    };
    pump();
  });
  const got = await received;
  const used = process.cpuUsage(before);
  server.close();
  return ((used.user + used.system) * 1_000) / got;
}

export async function recordsFloor({ tasks = 200_000, reps = 5 } = {}) {
  const per = {};
  for (const [kind, { inputs, task, check }] of Object.entries(kinds(tasks))) {
    let body;
    const client = cheapest(reps, tasks, () => {
      body = JSON.stringify({ name: kind, inputs });
    });
    const bytes = Buffer.from(body);
    let texts = [];
    const validated = cheapest(reps, tasks, () => {
      texts = validate(bytes, check);
    });
    if (texts.length !== tasks)
      throw new Error(`${kind}: ${texts.length} inputs`);
    const outputs = inputs.map((input) => JSON.stringify(task(input)));
    const sqlite = cheapest(reps, tasks, () => store(texts, outputs));
    const span = `[${texts.join(',')}]`;
    const thread = cheapest(reps, tasks, () => {
      const values = JSON.parse(span);
      const out = new Array(values.length);
      for (let i = 0; i < values.length; i++)
        out[i] = JSON.stringify(task(values[i]));
    });
    const mean = (list) => list.reduce((s, t) => s + t.length + 1, 0) / tasks;
    per[kind] = {
      client,
      validate: validated,
      sqlite,
      task: thread,
      bytesIn: mean(texts),
      bytesOut: mean(outputs),
    };
  }
  let nsPerByte = Infinity;
  for (let r = 0; r < 3; r++)
    nsPerByte = Math.min(nsPerByte, await socketNsPerByte());
  const { numbers: n, records: r } = per;
  const extra = {
    client: r.client - n.client,
    validate: r.validate - n.validate,
    sqlite: r.sqlite - n.sqlite,
    task: r.task - n.task,
    sockets:
      (((r.bytesIn - n.bytesIn) * 3 + (r.bytesOut - n.bytesOut) * 2) *
        nsPerByte) /
      1_000,
  };
  const total = Object.values(extra).reduce((a, b) => a + b, 0);
  return { tasks, per, nsPerByte, extraMicros: extra, extraMicrosTotal: total };
}

/**
 * The best records-to-numbers rate ratio while numbers cost `numbersMicros` of CPU per
 * task over the machine: the run is CPU-bound, so rates go as the inverse of CPU per task.
 */
export const ceilingRatio = (numbersMicros, extraMicros) =>
  numbersMicros / (numbersMicros + extraMicros);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const floor = await recordsFloor({
    tasks: Number(process.argv[2] ?? 200_000),
  });
  const fixed = (v) => v.toFixed(2);
  console.log('least extra CPU µs per record over a number, by step:');
  for (const [step, micros] of Object.entries(floor.extraMicros))
    console.log(`  ${step.padEnd(9)} ${fixed(micros)}`);
  console.log(`  total     ${fixed(floor.extraMicrosTotal)}`);
  console.log(`socket CPU per byte (both ends): ${fixed(floor.nsPerByte)} ns`);
  console.log(
    'ceiling of records vs numbers if numbers cost 6 µs of CPU per task: ' +
      `${fixed(ceilingRatio(6, floor.extraMicrosTotal))}x`,
  );
}
