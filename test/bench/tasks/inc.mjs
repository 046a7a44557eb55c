// The trivial task of the throughput figures: x => x + 1.
export default function inc(x) {
  return x + 1;
}
