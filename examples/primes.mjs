// Counts the primes in [from, to): a CPU-bound task with a tiny input and output.
// Submit with: npx colony submit examples/primes.mjs --inputs examples/primes.jsonl --wait
export default function countPrimes({ from, to }) {
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(to) ||
    from < 0 ||
    to < from
  ) {
    throw new Error(
      `expected {from, to} with 0 <= from <= to, got ${JSON.stringify({ from, to })}`,
    );
  }
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    if (isPrime(n)) count++;
  }
  return count;
}

function isPrime(n) {
  if (n < 4) return n >= 2;
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}
