// Closed-form mean queue waits the simulator is held to.

function factorialPower(a: number, k: number): number {
  // a^k / k!, computed as a product so large c does not overflow.
  let term = 1;
  for (let i = 1; i <= k; i++) term *= a / i;
  return term;
}

/** Erlang C: the probability an arrival waits in an M/M/c queue with offered load a = λ/μ. */
export function erlangC(servers: number, offeredLoad: number): number {
  const rho = offeredLoad / servers;
  let sum = 0;
  for (let k = 0; k < servers; k++) sum += factorialPower(offeredLoad, k);
  const top = factorialPower(offeredLoad, servers) / (1 - rho);
  return top / (sum + top);
}

/** Mean wait in queue (seconds) for M/M/c. */
export function mmcMeanWaitSeconds(servers: number, arrivalsPerSecond: number, meanServiceSeconds: number): number {
  const offeredLoad = arrivalsPerSecond * meanServiceSeconds;
  return erlangC(servers, offeredLoad) / (servers / meanServiceSeconds - arrivalsPerSecond);
}

/** Pollaczek–Khinchine mean wait for M/D/1: rho * D / (2 (1 - rho)). */
export function md1MeanWaitSeconds(arrivalsPerSecond: number, serviceSeconds: number): number {
  const rho = arrivalsPerSecond * serviceSeconds;
  return (rho * serviceSeconds) / (2 * (1 - rho));
}
