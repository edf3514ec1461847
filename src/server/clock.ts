// The embedded server's one time source: monotonic microseconds, so a wall-clock jump
// cannot fire or postpone TTRs and delays (beanstalkd itself uses the wall clock, h.7).
export function monotonicNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
