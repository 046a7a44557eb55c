// The bench clients' side of protocol 3's handshake: the master opens with a `challenge`
// frame; a worker answers with `hello` signed by its volunteer key (ECDSA P-256, the
// documented string, P1363 signature; see docs/protocol.md). One key per process.
import { generateKeyPairSync, sign } from 'node:crypto';

export const PROTOCOL = 3;

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKey = pair.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');

/**
 * The `hello` answering a challenge frame's text, for a socket dialled at `url`.
 * `fields` overrides kind, slots, name.
 */
export function signedHello(url, challengeText, fields = {}) {
  const { type, nonce } = JSON.parse(challengeText);
  if (type !== 'challenge')
    throw new Error(`expected a challenge, got ${type}`);
  const host = new URL(url).host.toLowerCase();
  const text = `colony-hello\nprotocol=${PROTOCOL}\nhost=${host}\nnonce=${nonce}`;
  const signature = sign('sha256', Buffer.from(text), {
    key: pair.privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64');
  return JSON.stringify({
    type: 'hello',
    protocol: PROTOCOL,
    kind: 'node',
    slots: 1,
    ...fields,
    volunteer: { publicKey, signature },
  });
}

/** Resolves once `socket` (ws) has answered the master's challenge with a signed hello. */
export function answerChallenge(socket, url, fields) {
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => {
      try {
        socket.send(signedHello(url, data.toString(), fields));
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}
