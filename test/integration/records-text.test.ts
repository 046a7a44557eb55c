/**
 * Records travel as JSON text from the submit to the task thread and back to the
 * results, through real `colony worker` processes (threads in the worker, and each
 * sandbox): every output line is byte for byte what a JSON round trip of the input
 * gives (JSON.parse of the text submitted, the task's record written by JSON.stringify).
 */
import { describe, expect, test } from 'vitest';
import {
  collectResults,
  fixtureModule,
  spawnColony,
  startTestMaster,
  waitForOutput,
} from '../helpers/master.js';

const deep = (levels: number): string =>
  `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;

/**
 * Inputs as the JSON text submitted (not written by JSON.stringify here: numbers such
 * as 1e400 and -0, escapes and spacing reach the master as typed).
 */
const tricky: string[] = [
  '{"id":"plain","x":1,"text":"lorem ipsum"}',
  '{"quote":"a \\"quoted\\" \\\\ back\\\\slash \\/","tab":"\\t","nl":"line\\nline"}',
  '{"unicode":"é ü 中文 🦄","escaped":"\\u00e9\\u4e2d\\ud83e\\udd84","sep":"\u2028\u2029"}',
  '{"lone":"\\ud800","low":"\\udc00x","nul":"\\u0000\\u001f"}',
  '{"inputs":[{"inputs":[1,"]","}",","]}],"leases":[-1],"type":"tasks"}',
  '{"$base64":"not only","$bin":0}',
  '{"bytes":{"$base64":"AAEC/w=="}}',
  '{"numbers":[0,-0,-1,1.5,1e21,1E+2,-2.5e-7,1e400,-1e400,9007199254740993,0.1e-400]}',
  deep(100),
  '{ "spaced" : [ 1 , 2 ] ,\n "out" : { } }',
  '{"empty":{},"list":[],"nothing":null,"yes":true,"no":false}',
  '["an","array",{"of":"records"}]',
  '[]',
  '{}',
  `{"huge":"${'x'.repeat(200_000)}"}`,
  '{"a":1,"a":2}',
];

/** Many plain records too, so that batches hold many tasks of varied sizes. */
const many = Array.from({ length: 3_000 }, (_, i) =>
  JSON.stringify({ id: `task-${i}`, x: i, text: 'é'.repeat(i % 300) }),
);

/** The result line the master must give for task `index` of the input `text`. */
const line = (index: number, text: string): string =>
  `{"index":${index},"ok":true,"output":${JSON.stringify({ task: index, input: JSON.parse(text) as unknown })}}`;

async function roundTrip(sandbox: string): Promise<void> {
  const master = await startTestMaster();
  const worker = spawnColony([
    'worker',
    master.url,
    '--threads',
    '2',
    '--sandbox',
    sandbox,
  ]);
  await waitForOutput(worker, (t) => /sandbox: \w+/.test(t), 'stderr');
  const inputs = [
    ...tricky,
    ...many,
    '5',
    '"a string"',
    'null',
    '{"bigint":true}',
  ];
  const module = await fixtureModule('record-echo.mjs');
  const body = `{"name":"records-${sandbox}","module":${JSON.stringify(module)},"options":{"maxAttempts":1},"inputs":[${inputs.join(',')}]}`;
  const submitted = await fetch(`${master.url}/api/jobs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${master.token}`,
      'content-type': 'application/json',
    },
    body,
  });
  expect(submitted.status).toBe(201);
  const { id } = (await submitted.json()) as { id: string };
  const results = await collectResults(master.client, id);
  // The client gives bytes back as bytes, and records as they were written.
  const bytesAt = tricky.indexOf('{"bytes":{"$base64":"AAEC/w=="}}');
  expect(results.get(bytesAt)).toMatchObject({ ok: true });
  const output = (i: number): unknown =>
    (results.get(i) as { output?: unknown } | undefined)?.output;
  expect(output(bytesAt)).toEqual({
    task: bytesAt,
    input: { bytes: new Uint8Array([0, 1, 2, 255]) },
  });
  expect(output(0)).toEqual({
    task: 0,
    input: { id: 'plain', x: 1, text: 'lorem ipsum' },
  });
  // The raw NDJSON: each output as the text the master stored and sent.
  const response = await fetch(`${master.url}/api/jobs/${id}/results`, {
    headers: { authorization: `Bearer ${master.token}` },
  });
  const lines = (await response.text()).trimEnd().split('\n');
  expect(lines).toHaveLength(inputs.length);
  const byIndex = new Map(
    lines.map((text) => [(JSON.parse(text) as { index: number }).index, text]),
  );
  const last = inputs.length - 1;
  for (let i = 0; i < last; i++)
    expect(byIndex.get(i)).toBe(line(i, inputs[i] as string));
  // An output with no JSON form fails its task with a clear error.
  expect(JSON.parse(byIndex.get(last) as string)).toMatchObject({
    index: last,
    ok: false,
    error: expect.stringMatching(/cannot be sent as JSON/) as unknown,
  });
  expect(worker.child.exitCode).toBeNull();
}

describe('records as JSON text end to end', () => {
  for (const sandbox of ['none', 'bwrap', 'permission'])
    test(`${sandbox}: every output line is the JSON round trip of the input`, async () => {
      await roundTrip(sandbox);
    });
});
