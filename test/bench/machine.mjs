// What else the machine did during a measurement, for telling a slow run of the code
// from a slow machine: its busy cores, a fixed piece of work's time, a process's writes.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

/** A fixed piece of work (about 2.5 ms of one core here). */
function probeWork() {
  const table = new Float64Array(4_096);
  let x = 1;
  for (let i = 0; i < 400_000; i++) {
    x = (x * 1_664_525 + 1_013_904_223) >>> 0;
    table[x & 4_095] += x;
  }
  return table[7];
}

/**
 * Times {@link probeWork} every 250 ms (about 1% of a core) until `stop()`, which
 * returns the medians of its CPU and wall times, in ms.
 */
export function speedProbe() {
  probeWork(); // compiled before the first sample
  const cpu = [];
  const wall = [];
  const timer = setInterval(() => {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    probeWork();
    const used = process.cpuUsage(cpu0);
    wall.push(performance.now() - wall0);
    cpu.push((used.user + used.system) / 1000);
  }, 250);
  const median = (values) =>
    values.length === 0
      ? NaN
      : values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    stop() {
      clearInterval(timer);
      return { cpuMs: median(cpu), wallMs: median(wall) };
    },
  };
}

/** CPU seconds the whole machine spent busy (all cores; /proc/stat less idle, iowait). */
export function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Bytes a process caused to be written to storage (/proc/PID/io), NaN if unknown. */
export function writtenBytes(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^write_bytes: (\d+)/m.exec(text)?.[1]);
  } catch {
    return NaN;
  }
}

/** Minor page faults of a process so far (see {@link pageFaultUs} for their cost). */
export function minorFaults(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return NaN;
  }
}

/**
 * CPU µs that first touching a page of fresh memory costs (mean over 2,048 pages). On a
 * plain machine well under 1 µs; in a VM that keeps shadow page tables (PVM) or whose
 * host takes freed pages back (a balloon with free page reporting) 15-25 µs, varying
 * with the host's load; and the master touches some 20,000 new pages during a
 * 500,000-task job: then a large and varying part of its CPU.
 */
export function pageFaultUs() {
  const pages = 2_048;
  const cpu0 = process.cpuUsage();
  const memory = Buffer.allocUnsafeSlow(pages * 4_096);
  for (let i = 0; i < memory.length; i += 4_096) memory[i] = 1;
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / pages;
}

/**
 * CPU µs of one cheap system call (fstat) made from JS, best of 3 rounds of 2,000:
 * about 0.5 µs on a plain machine; several times that in a VM whose guest switches page
 * tables on every kernel entry (PVM with page-table isolation), where the master's socket
 * writes, SQLite's file writes and every thread wake-up cost that much more.
 */
export function syscallUs() {
  const fd = openSync('/proc/self/stat', 'r');
  try {
    let best = Infinity;
    for (let round = 0; round < 4; round++) {
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < 2_000; i++) fstatSync(fd);
      const used = process.cpuUsage(cpu0);
      // The first round compiles the loop and is not counted.
      if (round > 0) best = Math.min(best, (used.user + used.system) / 2_000);
    }
    return best;
  } finally {
    closeSync(fd);
  }
}
