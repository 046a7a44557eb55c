/**
 * Output texts from the sandboxed child as one run: encoded and decoded with lengths
 * and commas checked, each text checked in place by the executor, kept whole when all
 * of it goes in order to one owner (then spliced into the results frame as it came),
 * else one text per output; an outbox cut inside a run splits it.
 */
import { describe, expect, test } from 'vitest';
import { acceptDone } from '../../../server/worker/sandbox/accept-done.js';
import {
  FRAME_DONE,
  doneFrame,
} from '../../../server/worker/sandbox/columns.js';
import { FrameReader } from '../../../server/worker/sandbox/frames.js';
import { HeldBatches } from '../../../server/worker/sandbox/held.js';
import { TextsRun } from '../../../server/worker/sandbox/text-runs.js';
import {
  IN_RUN,
  JsonRun,
  JsonText,
  encodeResults,
} from '../../../shared/json-text.js';
import type { Lease } from '../../../shared/protocol.js';
import { ResultsOutbox } from '../../../shared/session/results-outbox.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import { lease } from '../../helpers/ids.js';

const leases = (...values: number[]): Lease[] => values.map(lease);

/** Feeds raw frames to a reader; returns what it decoded and reported. */
function read(frame: Buffer) {
  const messages: Record<string, unknown>[] = [];
  const errors: string[] = [];
  new FrameReader(
    (m) => messages.push(m as Record<string, unknown>),
    (e) => errors.push(e),
  ).push(frame);
  return { messages, errors };
}

/** The done frame of `texts` (every output a text), ids 1.. */
function runFrame(texts: string[]): Buffer {
  return doneFrame({
    leases: leases(...texts.map((_, i) => i + 1)),
    outputs: texts,
    failures: [],
    busyMs: texts.map(() => 1),
    texts: texts.map((_, i) => i),
  }) as Buffer;
}

/** A run frame by hand: `lengths` as the child claims them, then `text`. */
function handRun(lengths: number[], text: string, format = 6): Buffer {
  const n = lengths.length;
  const header = Buffer.from('"all"');
  const doubles = Buffer.alloc(3 * n * 8);
  for (let i = 0; i < n; i++) {
    doubles.writeDoubleLE(i + 1, i * 8);
    doubles.writeDoubleLE(1, (n + i) * 8);
    doubles.writeDoubleLE(lengths[i] as number, (2 * n + i) * 8);
  }
  const tail = Buffer.from(text, format === 6 ? 'latin1' : 'utf16le');
  const head = Buffer.alloc(16);
  head.writeUInt32LE(12 + doubles.length + header.length + tail.length, 0);
  head[4] = FRAME_DONE;
  head[5] = format;
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(header.length, 12);
  return Buffer.concat([head, doubles, header, tail]);
}

function owner() {
  const told: Outcomes[] = [];
  return { told, onDone: (outcomes: Outcomes) => told.push(outcomes) };
}

describe('a run of output texts on the pipe', () => {
  test('texts of any chars come back as one run with where each ends', () => {
    for (const texts of [
      ['{"a":1}', '[2]', '"x,y"'],
      ['{"a":"é"}', '{"b":"\u20ac"}', '"\ud800"'],
      ['{}'],
    ]) {
      const { messages, errors } = read(runFrame(texts));
      expect(errors).toEqual([]);
      const run = messages[0]?.outputs as TextsRun;
      expect(run).toBeInstanceOf(TextsRun);
      expect(run.text).toBe(texts.join(','));
      let end = -1;
      expect(Array.from(run.ends)).toEqual(
        texts.map((t) => (end += t.length + 1)),
      );
    }
  });

  test('lengths that miss a comma or the end are malformed frames', () => {
    for (const [lengths, text] of [
      [[3, 3], '{"a"},1'],
      [[2, 3], '[1],[2]'],
      [[3, 4], '[1],[2]'],
      [[3, 2.5], '[1],[2]'],
      [[3, -1], '[1],[2]'],
      [[7], '[1],[2],'],
    ] as const) {
      const { messages, errors } = read(handRun([...lengths], text));
      expect(messages).toEqual([]);
      expect(errors).toEqual([expect.stringMatching(/lengths/)]);
    }
    // UTF-16 of an odd number of bytes.
    const torn = Buffer.concat([handRun([1], 'x', 7), Buffer.from([0])]);
    torn.writeUInt32LE(torn.length - 4, 0);
    expect(read(torn).errors).toEqual([expect.stringMatching(/torn/)]);
  });
});

describe('acceptDone of a run', () => {
  const texts = ['{"a":1}', '{"b":[1,{"c":null}]}', '"x,y"'];
  const run = () => {
    const { messages } = read(runFrame(texts));
    return messages[0] as Record<string, unknown>;
  };

  test('all of it held, in order: one run, spliced whole', () => {
    const held = new HeldBatches();
    const one = owner();
    held.add(leases(10, 11, 12), one.onDone);
    const got = acceptDone(held, run()).get(one.onDone) as Outcomes;
    expect(got.leases).toEqual(leases(10, 11, 12));
    expect(got.outputs).toEqual([
      new JsonRun(texts.join(','), expect.anything() as never),
      IN_RUN,
      IN_RUN,
    ]);
    const frame = encodeResults({
      type: 'results',
      leases: got.leases,
      outputs: got.outputs,
    }) as string;
    expect(JSON.parse(frame)).toEqual({
      type: 'results',
      leases: [10, 11, 12],
      outputs: [{ a: 1 }, { b: [1, { c: null }] }, 'x,y'],
    });
  });

  test('ids not held, or owners apart: one text per output, in its place', () => {
    const held = new HeldBatches();
    const one = owner();
    const two = owner();
    held.add(leases(10), one.onDone);
    held.add(leases(11, 12), two.onDone);
    const byOwner = acceptDone(held, run());
    expect(byOwner.get(one.onDone)?.outputs).toEqual([
      new JsonText(texts[0] as string),
    ]);
    expect(byOwner.get(two.onDone)?.outputs).toEqual([
      new JsonText(texts[1] as string),
      new JsonText(texts[2] as string),
    ]);
    const fewer = new HeldBatches();
    fewer.add(leases(10, 11), one.onDone);
    const got = acceptDone(fewer, run()).get(one.onDone) as Outcomes;
    expect(got.outputs).toEqual(texts.slice(0, 2).map((t) => new JsonText(t)));
  });

  test('a text that is not compact JSON fails its task; the others pass as texts', () => {
    const bad = ['{"a":1}', '1],"credit":9,"leases":[7', '{"b": 2}', '{"c":3}'];
    const { messages, errors } = read(
      handRun(
        bad.map((t) => t.length),
        bad.join(','),
      ),
    );
    expect(errors).toEqual([]);
    const held = new HeldBatches();
    const one = owner();
    held.add(leases(1, 2, 3, 4), one.onDone);
    const got = acceptDone(held, messages[0] as Record<string, unknown>).get(
      one.onDone,
    ) as Outcomes;
    expect(got.leases).toEqual(leases(1, 4));
    expect(got.outputs).toEqual([
      new JsonText('{"a":1}'),
      new JsonText('{"c":3}'),
    ]);
    expect(got.failures.map((f) => f.lease)).toEqual(leases(2, 3));
  });

  test('more texts than ids: the run is never spliced whole', () => {
    const held = new HeldBatches();
    const one = owner();
    held.add(leases(1, 2), one.onDone);
    const message = { ...run(), leases: new Float64Array([1, 2]) };
    const got = acceptDone(held, message).get(one.onDone) as Outcomes;
    expect(got.outputs).toEqual(texts.slice(0, 2).map((t) => new JsonText(t)));
  });
});

describe('a run in the results outbox', () => {
  test('a frame cut inside a run splits it: every output keeps its place', () => {
    const outbox = new ResultsOutbox();
    const n = 2_500;
    const texts = Array.from({ length: n }, (_, i) => `{"i":${i}}`);
    let end = -1;
    const ends = texts.map((t) => (end += t.length + 1));
    outbox.add({
      leases: leases(...texts.map((_, i) => i + 1)),
      outputs: [
        new JsonRun(texts.join(','), ends),
        ...texts.slice(1).map(() => IN_RUN),
      ],
      failures: [],
    });
    const outputs: unknown[] = [];
    while (outbox.size > 0) {
      const taken = outbox.take();
      const frame = encodeResults({
        type: 'results',
        leases: taken.leases,
        outputs: taken.outputs,
      }) as string;
      const parsed = JSON.parse(frame) as {
        leases: number[];
        outputs: unknown[];
      };
      expect(parsed.outputs.length).toBe(parsed.leases.length);
      outputs.push(...parsed.outputs);
    }
    expect(outputs).toEqual(texts.map((_, i) => ({ i })));
  });

  test('with bytes among the outputs, the run is parsed back for the binary frame', () => {
    const frame = encodeResults({
      type: 'results',
      leases: leases(1, 2, 3),
      outputs: [new JsonRun('{"a":1},2', [7, 9]), IN_RUN, new Uint8Array([1])],
    });
    expect(frame).toBeInstanceOf(Uint8Array);
  });
});
