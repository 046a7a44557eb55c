/**
 * The handshake's second step: the master spoke first (its `challenge`); the worker
 * signs the nonce with its volunteer key and says `hello` on the same connection.
 */
import {
  PROTOCOL_VERSION,
  type Hello,
  type VolunteerProof,
  type WorkerKind,
} from '../protocol.js';

/** Signs the master's challenge for `hello` (see shared/identity.ts). */
export type Prove = (nonce: string) => Promise<VolunteerProof>;

export interface HelloParts {
  kind: WorkerKind;
  slots: number;
  name?: string | undefined;
  prove: Prove;
}

/**
 * Signs `nonce`, then hands `hello` to `send` if the connection it was asked on is
 * still the current one (`stillUp`): signing is asynchronous, and a hello must never
 * reach a later connection, whose challenge differs. If signing fails, `fail` is told.
 */
export function sayHello(
  parts: HelloParts,
  nonce: string,
  to: {
    stillUp(): boolean;
    send(hello: Hello): void;
    fail(error: unknown): void;
  },
): void {
  const { kind, slots, name, prove } = parts;
  prove(nonce).then(
    (volunteer) => {
      if (!to.stillUp()) return;
      to.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        kind,
        slots,
        volunteer,
        // colony's workers resume from checkpoints and show their volunteer's standing.
        resumes: true,
        ...(name ? { name } : {}),
        standing: true,
      });
    },
    (error: unknown) => to.fail(error),
  );
}
