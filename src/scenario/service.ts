// How long a worker spends on one job, drawn from the pool's service-time distribution.
import type { ServiceTimeSpec } from './schema.js';
import type { Random } from './random.js';

/** Returns a service time in whole microseconds. */
export type ServiceTimeSampler = (random: Random) => number;

export function createServiceTime(spec: ServiceTimeSpec): ServiceTimeSampler {
  switch (spec.distribution) {
    case 'constant': {
      const us = Math.round(spec.seconds * 1e6);
      return () => us;
    }
    case 'exponential': {
      const meanUs = spec.meanSeconds * 1e6;
      return (random) => Math.round(random.exponential(meanUs));
    }
    case 'lognormal': {
      // Parameterised by its mean, which is what capacity questions are about: mean = e^(mu + sigma^2/2).
      const mu = Math.log(spec.meanSeconds * 1e6) - (spec.sigma * spec.sigma) / 2;
      const sigma = spec.sigma;
      return (random) => Math.round(Math.exp(mu + sigma * random.normal()));
    }
    case 'empirical': {
      // Resampling the measured times (a bootstrap) keeps their real shape, tails included.
      const samplesUs = spec.samplesSeconds.map((s) => Math.round(s * 1e6));
      return (random) => samplesUs[random.below(samplesUs.length)];
    }
  }
}

/** Whole seconds to wait before retry number `retry` (0-based): beanstalkd delays are whole seconds. */
export function backoffSeconds(retry: number, initialSeconds: number, factor: number, maxSeconds: number): number {
  return Math.min(maxSeconds, Math.ceil(initialSeconds * factor ** retry));
}
