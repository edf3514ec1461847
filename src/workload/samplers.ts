// The distributions a scenario names, as functions of uniform draws handed to them rather than of
// a random source they draw from themselves. A decision then costs a fixed number of draws that
// depends on the producer's or pool's spec only (never on which job or tube a draw is for), which
// is what keeps decision k of a stream the same whatever happened before it.
import type { ProducerSpec, ServiceTimeSpec } from '../scenario/schema.js';
import { US_PER_SECOND as US } from '../units.js';

/** A service time in whole microseconds from two uniforms in [0, 1) (the distribution uses 0, 1 or 2 of them). */
export type ServiceFromUniforms = (u1: number, u2: number) => number;

/** How many uniforms a service-time distribution needs per draw. */
export function serviceDraws(spec: ServiceTimeSpec): 0 | 1 | 2 {
  switch (spec.distribution) {
    case 'constant':
      return 0;
    case 'exponential':
    case 'empirical':
      return 1;
    case 'lognormal':
      return 2;
  }
}

export function serviceFromUniforms(spec: ServiceTimeSpec): ServiceFromUniforms {
  switch (spec.distribution) {
    case 'constant': {
      const us = Math.round(spec.seconds * US);
      return () => us;
    }
    case 'exponential': {
      const meanUs = spec.meanSeconds * US;
      // 1 - u lies in (0, 1]: the log is finite.
      return (u1) => Math.round(-Math.log(1 - u1) * meanUs);
    }
    case 'lognormal': {
      // Parameterised by its mean, which is what capacity questions are about: mean = e^(mu + sigma^2/2).
      const mu = Math.log(spec.meanSeconds * US) - (spec.sigma * spec.sigma) / 2;
      const sigma = spec.sigma;
      // Box-Muller, one of the pair: a standard normal from two uniforms.
      return (u1, u2) => Math.round(Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)));
    }
    case 'empirical': {
      // Resampling the measured times (a bootstrap) keeps their real shape, tails included.
      const samplesUs = spec.samplesSeconds.map((s) => Math.round(s * US));
      return (u1) => samplesUs[Math.floor(u1 * samplesUs.length)];
    }
  }
}

/** Body size in bytes from one uniform (unused for a fixed size). */
export function bodyBytesFromUniform(spec: ProducerSpec['bodyBytes']): { draws: 0 | 1; sample: (u: number) => number } {
  if (typeof spec === 'number') return { draws: 0, sample: () => spec };
  const span = spec.maxBytes - spec.minBytes + 1;
  return { draws: 1, sample: (u) => spec.minBytes + Math.floor(u * span) };
}

/** The drawn part of a put's delay, whole seconds, from one uniform (unused for a fixed delay). */
export function baseDelayFromUniform(spec: ProducerSpec['delaySeconds']): { draws: 0 | 1; sample: (u: number) => number } {
  if (typeof spec === 'number') return { draws: 0, sample: () => spec };
  const span = spec.max - spec.min + 1;
  return { draws: 1, sample: (u) => spec.min + Math.floor(u * span) };
}

/**
 * Whole seconds from putUs until the job's run-at time (the next multiple of everySeconds, plus
 * offset), 0 without runAt. Rounded up: beanstalkd delays are whole seconds, and a job must never
 * run before its time.
 */
export function runAtWaitSeconds(runAt: ProducerSpec['runAt'], putUs: number): number {
  if (runAt === undefined) return 0;
  const everyUs = runAt.everySeconds * US;
  const offsetUs = runAt.offsetSeconds * US;
  const slots = Math.ceil((putUs - offsetUs) / everyUs);
  const runAtUs = offsetUs + Math.max(0, slots) * everyUs;
  return Math.ceil((runAtUs - putUs) / US);
}
