// A CPU-bound task of `spinMs` milliseconds (the tail scenarios): returns `x * x`.
export default function spin({ x, spinMs }) {
  const until = Date.now() + spinMs;
  while (Date.now() < until) {
    // busy
  }
  return x * x;
}
