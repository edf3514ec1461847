// Units beanlab converts between, each defined once. Inside beanlab time is integer
// microseconds (the model's clock, the simulator's, the histograms); scenarios, options and
// reports speak seconds or milliseconds. Imports nothing: every layer may use it.

/** Microseconds per second. */
export const US_PER_SECOND = 1_000_000;
/** Microseconds per millisecond. */
export const US_PER_MS = 1000;
/** Milliseconds per second. */
export const MS_PER_SECOND = 1000;
