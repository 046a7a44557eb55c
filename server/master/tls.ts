/**
 * The master's listening server: plain HTTP, or HTTPS (and so WSS on the same port)
 * when given a certificate and key. Certificates are renewed on disk (certbot), so the
 * files are read again on SIGHUP; a file that does not load then keeps the old context.
 * Also notes each request's client address (see client-address.ts) before any handler
 * runs, for requests and WebSocket upgrades alike.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import { AppError, ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../log.js';
import { noteClientAddress, type TrustedProxies } from './client-address.js';

export interface TlsFiles {
  /** PEM certificate chain (the leaf first, as certbot's fullchain.pem). */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
}

export interface ListenOptions {
  tls?: TlsFiles | undefined;
  trustProxy?: TrustedProxies | undefined;
  logger: Logger;
}

export type MasterServer = http.Server | https.Server;

/**
 * How often Node checks `headersTimeout` and `requestTimeout` (its default, 30 s, would
 * let a slow client outlive a 10 s header timeout by half a minute).
 */
const TIMEOUT_CHECKS = { connectionsCheckingInterval: 1_000 };

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads both files and checks they make a context (a key that fits the certificate). */
export function loadKeyPair(files: TlsFiles): KeyPair {
  const pair = {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
  };
  createSecureContext(pair);
  return pair;
}

/**
 * Reads the files again and swaps them in; on any failure the running context stays
 * and the error is logged. Returns whether the new certificate is in use.
 */
export function reloadTls(
  server: https.Server,
  files: TlsFiles,
  logger: Logger,
): boolean {
  try {
    server.setSecureContext(loadKeyPair(files));
    logger.info({ cert: files.certFile }, 'tls certificate reloaded');
    return true;
  } catch (error) {
    logger.error(
      { err: error, cert: files.certFile, key: files.keyFile },
      'tls reload failed; keeping the previous certificate',
    );
    return false;
  }
}

/**
 * Creates (not yet listening) the server that serves `handler`. With `tls`, it is an
 * HTTPS server whose files are re-read on SIGHUP until it closes. Throws with a clear
 * message when the files cannot be read at start.
 */
export function createListeningServer(
  options: ListenOptions,
  handler: http.RequestListener,
): MasterServer {
  const { tls, trustProxy, logger } = options;
  let server: MasterServer;
  if (tls) {
    let pair: KeyPair;
    try {
      pair = loadKeyPair(tls);
    } catch (error) {
      throw new AppError(
        ErrorCode.InvalidArgument,
        `cannot use --tls-cert ${tls.certFile} / --tls-key ${tls.keyFile}: ${(error as Error).message}`,
      );
    }
    const secure = https.createServer({ ...pair, ...TIMEOUT_CHECKS });
    const onHup = () => reloadTls(secure, tls, logger);
    process.on('SIGHUP', onHup);
    secure.once('close', () => process.off('SIGHUP', onHup));
    // A failed TLS handshake is the peer's problem, not the master's: log quietly.
    secure.on('tlsClientError', (error) =>
      logger.debug({ err: error.message }, 'tls handshake failed'),
    );
    server = secure;
  } else {
    server = http.createServer(TIMEOUT_CHECKS);
  }
  // Runs before every other listener: the address is known to all handlers.
  server.prependListener('upgrade', (req: http.IncomingMessage) => {
    noteClientAddress(req, trustProxy);
  });
  server.on('request', (req, res) => {
    noteClientAddress(req, trustProxy);
    handler(req, res);
  });
  return server;
}
