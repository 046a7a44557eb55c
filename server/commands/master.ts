/** `colony master`: serve until SIGINT/SIGTERM, then shut down gracefully. */
import { AppError, ErrorCode } from '../../shared/errors.js';
import type { Flags } from './flags.js';
import { parseTrustedProxies } from '../master/client-address.js';
import { checkTokenLength } from '../master/data-dir.js';
import { startMaster } from '../master/main.js';
import {
  parseAllowedHosts,
  parseAllowedOrigins,
} from '../master/origin-check.js';
import { printMasterBanner } from './common.js';

/** --tls-cert and --tls-key go together; --trust-proxy is a list of IPs or CIDRs. */
function networkOptions(flags: Flags) {
  const cert = flags['tls-cert'];
  const key = flags['tls-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new AppError(
      ErrorCode.InvalidArgument,
      '--tls-cert and --tls-key must be given together',
    );
  return {
    ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
    ...(flags['trust-proxy']
      ? { trustProxy: parseTrustedProxies(flags['trust-proxy']) }
      : {}),
  };
}

/** Who may reach the master from a browser, and whether source maps are served. */
function browserOptions(flags: Flags) {
  return {
    ...(flags['allowed-origins']
      ? { allowedOrigins: parseAllowedOrigins(flags['allowed-origins']) }
      : {}),
    ...(flags['allowed-hosts']
      ? { allowedHosts: parseAllowedHosts(flags['allowed-hosts']) }
      : {}),
    serveSourceMaps: flags['serve-source-maps'] ?? false,
  };
}

/** What strangers may open: per-address caps and the handshake deadline. */
function limitOptions(flags: Flags) {
  const conns = flags['max-connections-per-address'];
  const shakes = flags['max-handshakes-per-address'];
  const handshake = flags['handshake-ms'];
  return {
    ...(conns ? { maxConnectionsPerAddress: conns } : {}),
    ...(shakes ? { maxHandshakesPerAddress: shakes } : {}),
    ...(handshake ? { handshakeMs: handshake } : {}),
  };
}

export async function runMaster(flags: Flags): Promise<void> {
  // A generated token is long; one the operator gives must not be guessable.
  if (flags.token) checkTokenLength(flags.token, '--token');
  else if (process.env.COLONY_TOKEN)
    checkTokenLength(process.env.COLONY_TOKEN, 'COLONY_TOKEN');
  const master = await startMaster({
    ...networkOptions(flags),
    ...browserOptions(flags),
    ...(flags.host ? { host: flags.host } : {}),
    port: flags.port ?? 8080,
    dataDir: flags.data ?? './colony-data',
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.store ? { store: flags.store } : {}),
    ...(flags.fsync ? { fsync: flags.fsync } : {}),
    ...(flags.retain ? { retainMs: flags.retain } : {}),
    ...(flags['heartbeat-ms'] ? { heartbeatMs: flags['heartbeat-ms'] } : {}),
    ...(flags['log-level'] ? { logLevel: flags['log-level'] } : {}),
    ...(flags['distinct-addresses']
      ? { distinctAddresses: flags['distinct-addresses'] === 'on' }
      : {}),
    ...limitOptions(flags),
  });
  printMasterBanner(master.url, master.token);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    master.logger.info({ signal }, 'shutting down');
    master.close().then(
      () => process.exit(0),
      (error: unknown) => {
        master.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
