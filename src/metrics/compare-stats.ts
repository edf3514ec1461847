// The confidence interval behind compare's verdict: the distribution-free interval for the shift
// between two sets of samples that goes with the Mann-Whitney U test (Lehmann, "Nonparametrics",
// 1975; the Hodges-Lehmann interval), as benchstat uses for Go benchmarks. Tail latencies of short
// runs on a shared machine are heavy-tailed: one scheduler stall moves a p99 several-fold, so an
// interval that assumes normal noise (Student t) is far too narrow with 3 to 10 samples, and it
// raised false alarms on equal servers. This interval's coverage holds whatever the noise's
// shape, as long as the runs of equal servers are exchangeable. Pure and deterministic.

/** Sizes up to which U's distribution is counted exactly (C(50, 25) ≈ 1.3e14 stays exact in a double). */
const EXACT_MAX_TOTAL = 50;

/**
 * P(U <= u) for u = 0..m·n under the null hypothesis, U = #{(i, j): c_j > b_i} with m and n
 * samples. The counts are the coefficients of the Gaussian binomial [m+n choose m] in q, built
 * as the product over i = 1..m of (1 - q^(n+i)) / (1 - q^i).
 */
export function mannWhitneyCdf(m: number, n: number): Float64Array {
  const size = m * n + 1;
  const counts = new Float64Array(size);
  counts[0] = 1;
  for (let i = 1; i <= m; i++) {
    for (let u = size - 1; u >= n + i; u--) counts[u] -= counts[u - n - i];
    // Dividing by (1 - q^i) is a running sum with stride i; terms past m·n never feed back.
    for (let u = i; u < size; u++) counts[u] += counts[u - i];
  }
  let total = 0;
  for (let u = 0; u < size; u++) total += counts[u];
  let running = 0;
  for (let u = 0; u < size; u++) {
    running += counts[u];
    counts[u] = running / total;
  }
  return counts;
}

/**
 * The number k of the smallest (and of the largest) pairwise differences the interval leaves
 * out: the largest k with P(U <= k - 1) <= tail. 0 means the samples are too few for the asked
 * confidence (even complete separation is not rare enough).
 */
export function excludedPerTail(m: number, n: number, tail: number): number {
  if (m === 0 || n === 0) return 0;
  if (m + n <= EXACT_MAX_TOTAL) {
    const cdf = mannWhitneyCdf(m, n);
    let k = 0;
    while (k < cdf.length && cdf[k] <= tail) k++;
    return k;
  }
  // Normal approximation with continuity correction, accurate at these sizes.
  const mean = (m * n) / 2;
  const sd = Math.sqrt((m * n * (m + n + 1)) / 12);
  return Math.max(0, Math.floor(mean - normalQuantile(1 - tail) * sd + 0.5));
}

/**
 * Interval for the shift of `current` against `baseline` (current - baseline): the k-th smallest
 * and k-th largest of all pairwise differences. Unbounded (±Infinity) when the samples are too few.
 */
export function shiftInterval(baseline: readonly number[], current: readonly number[], tail: number): [number, number] {
  const k = excludedPerTail(baseline.length, current.length, tail);
  if (k === 0) return [-Infinity, Infinity];
  const differences: number[] = [];
  for (const c of current) for (const b of baseline) differences.push(c - b);
  differences.sort((x, y) => x - y);
  return [differences[k - 1], differences[differences.length - k]];
}

/** The fewest samples per side (equal sides) that can give a bounded interval at this tail. */
export function minSamplesPerSide(tail: number): number {
  let n = 1;
  while (excludedPerTail(n, n, tail) === 0) n++;
  return n;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p=${p} is not in (0, 1)`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The chance that the interval of two sets of exchangeable samples (equal servers) lies wholly
 * on one given side of 0: P(U <= k - 1), the level the discrete test actually attains, at most
 * `tail`. 0 when the samples are too few for a bounded interval. A verdict needs the interval
 * beyond a limit, not just beyond 0, so this bounds a row's false alarms from above.
 */
export function attainedTail(m: number, n: number, tail: number): number {
  const k = excludedPerTail(m, n, tail);
  if (k === 0) return 0;
  return m + n <= EXACT_MAX_TOTAL ? mannWhitneyCdf(m, n)[k - 1] : tail;
}

/** P(X >= x) for X ~ Binomial(n, p): how surprising x or more events in n tries are. */
export function binomialUpperTail(n: number, p: number, x: number): number {
  if (x <= 0) return 1;
  if (x > n) return 0;
  if (p >= 1) return 1;
  // The terms from x up, summed directly: 1 - P(X < x) would lose a small tail to rounding.
  let term = (1 - p) ** n; // P(X = 0)
  let upper = 0;
  for (let i = 0; i <= n; i++) {
    if (i >= x) upper += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.min(1, upper);
}
