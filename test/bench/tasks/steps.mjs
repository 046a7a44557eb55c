// A long task (the checkpoint scenario): `steps` steps of `stepMs` of CPU each, a
// checkpoint after every step when `checkpoint` is set. Returns the step it started from.
export default function steps({ steps, stepMs, checkpoint }, ctx) {
  const from = (checkpoint && ctx.resumeFrom?.step) || 0;
  for (let step = from; step < steps; step++) {
    const until = Date.now() + stepMs;
    while (Date.now() < until) {
      // busy
    }
    if (checkpoint) ctx.checkpoint({ step: step + 1 });
    ctx.progress((step + 1) / steps);
  }
  return { from, attempt: ctx.attempt };
}
