/**
 * `GET /api/jobs/:id/results`: a job's results as NDJSON, read from the store in pages
 * by seq; with `?follow=1` the stream stays open and wakes on new results until the
 * job has finished durably. A job purged meanwhile ends the stream (cleanly: the lines
 * sent so far are whole).
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobId } from '../../../shared/protocol.js';
import { bytesAsBase64 } from '../../base64-json.js';
import { notFound } from '../jobs-service.js';
import type { Runtime } from '../runtime.js';
import type { StoredResult } from '../store/store.js';
import { decodeStored } from '../store/value-codec.js';
import { Utf8Bytes } from '../utf8-bytes.js';

/** Results read from the store per query. */
const RESULTS_PAGE = 2_000;

export async function streamResults(
  runtime: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  jobId: JobId,
  follow: boolean,
): Promise<void> {
  if (!runtime.scheduler.jobView(jobId)) throw notFound(jobId);
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
  });
  let closed = false;
  req.on('close', () => {
    closed = true;
  });
  let afterSeq = 0;
  let wake: (() => void) | null = null;
  const onResults = (id: JobId) => {
    if (id === jobId) wake?.();
  };
  runtime.on('results', onResults);
  runtime.on('job-finished', onResults);
  runtime.on('job-purged', onResults);
  res.on('close', () => {
    closed = true;
    wake?.();
  });
  try {
    for (;;) {
      // Read the state before the page: if it says finished, the page holds the rest.
      const finished = runtime.isFinishedDurably(jobId);
      const page = runtime.store.readResults(jobId, afterSeq, RESULTS_PAGE);
      if (page.length > 0) {
        afterSeq = page[page.length - 1]?.seq ?? afterSeq;
        if (!res.write(resultsPage(page))) await once(res, 'drain');
        if (closed) return;
        continue;
      }
      const purged = !runtime.scheduler.jobView(jobId);
      if (!follow || finished || closed || purged) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
      if (closed) return;
    }
    res.end();
  } finally {
    runtime.off('results', onResults);
    runtime.off('job-finished', onResults);
    runtime.off('job-purged', onResults);
  }
}

/**
 * A page of results as NDJSON bytes: each line copied once into the page (see
 * Utf8Bytes), sized for lines of about {@link LINE_GUESS} bytes.
 */
export function resultsPage(page: readonly StoredResult[]): Buffer {
  const out = new Utf8Bytes(page.length * LINE_GUESS);
  for (const result of page) out.put(resultLine(result));
  return out.bytes();
}

const LINE_GUESS = 64;

export function resultLine(result: StoredResult): string {
  const { outcome } = result;
  if (!outcome.ok) {
    const { error, code } = outcome;
    return `${JSON.stringify({ index: result.index, ok: false, error, code })}\n`;
  }
  if (typeof outcome.output === 'string') {
    return `{"index":${result.index},"ok":true,"output":${outcome.output}}\n`;
  }
  // Binary outputs in NDJSON: bytes as base64 under a `$base64` key.
  return `${JSON.stringify({ index: result.index, ok: true, output: binaryToJson(outcome.output) })}\n`;
}

function binaryToJson(frame: Uint8Array): unknown {
  return JSON.parse(JSON.stringify(decodeStored(frame), bytesAsBase64));
}
