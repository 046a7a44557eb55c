// Binary figure: returns its input (a Uint8Array) as its output.
export default function echo(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new Error('expected a Uint8Array');
  return bytes;
}
