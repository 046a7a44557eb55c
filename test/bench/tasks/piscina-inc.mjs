// The piscina baseline's task: the same x => x + 1, one thread hop per task.
export default function inc(x) {
  return x + 1;
}
