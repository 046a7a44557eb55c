/**
 * Small HTTP helpers for the master's routes: JSON replies in one error shape,
 * bounded body reading, constant-time token checks.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, ErrorCode } from '../../shared/errors.js';

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidMessage]: 400,
  [ErrorCode.InvalidModule]: 400,
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.JobSealed]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.MisdirectedRequest]: 421,
};

export function statusOf(code: ErrorCode): number {
  return STATUS_OF[code] ?? 500;
}

/** Replies `body` as JSON, with `headers` besides the usual ones (e.g. `allow`). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  error: AppError,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  sendJson(
    res,
    statusOf(error.code),
    { error: { code: error.code, message: error.message } },
    headers,
  );
}

/** Media type without parameters, lower-cased ('' if absent). */
export function mediaType(req: IncomingMessage): string {
  return (
    (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ??
    ''
  );
}

export function requireMediaType(
  req: IncomingMessage,
  accepted: readonly string[],
): void {
  const type = mediaType(req);
  if (!accepted.includes(type)) {
    throw new AppError(
      ErrorCode.UnsupportedMediaType,
      `Content-Type must be ${accepted.join(' or ')}, not ${type || 'missing'}`,
    );
  }
}

/**
 * A body's declared length (NaN if none), refused with 413 past `limitBytes` before it
 * is read.
 */
export function declaredLength(
  req: IncomingMessage,
  limitBytes: number,
): number {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw new AppError(
      ErrorCode.PayloadTooLarge,
      `body of ${declared} bytes exceeds the limit of ${limitBytes}`,
    );
  }
  return declared;
}

/** Reads a whole body, refusing past `limitBytes` with 413 (checked before and while reading). */
export async function readBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<Buffer> {
  declaredLength(req, limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      throw new AppError(
        ErrorCode.PayloadTooLarge,
        `body exceeds the limit of ${limitBytes} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Parses JSON text from a peer; a bad body is a 400, never a crash. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(
      ErrorCode.InvalidMessage,
      `body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** Hash both sides first so that lengths never leak and timingSafeEqual gets equal sizes. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function requireToken(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1] || !tokenMatches(match[1], token)) {
    throw new AppError(
      ErrorCode.Unauthorized,
      'this route needs the header Authorization: Bearer <token> (printed by `colony master`)',
    );
  }
}
