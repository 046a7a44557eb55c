// A task that waits `ms` milliseconds without using the CPU (a timer), then returns
// `x + 1`: a worker's rate is bounded by the wait, not by the machine's cores, so
// several masters' scaling shows where the CPU is shared with everything else.
export default function sleep({ x, ms }) {
  return new Promise((resolve) => setTimeout(() => resolve(x + 1), ms));
}
