// What `beanlab validate` measures of a real target's path before comparing it with the
// simulator (load/calibrate.ts measures it; validate/check.ts carries it into the verdict).
// Shared here so that both speak of one set of figures.

/** Every figure in microseconds: medians of the samples. */
export interface Calibration {
  /** TCP connect to the target: the network's round trip (kernel only) plus connect()'s own cost. */
  handshakeUs: number;
  /** The same to the echo server on loopback. */
  echoHandshakeUs: number;
  /** A command through the load runner's driver to the echo server and back. */
  echoCommandUs: number;
  /** What the simulator is given: handshakeUs + echoCommandUs − echoHandshakeUs. */
  roundTripUs: number;
  /** The same command against the target. */
  targetCommandUs: number;
  /** targetCommandUs − roundTripUs: the server's own cost per command, as it appears (may be a little below 0). */
  serverCostUs: number;
  /** Samples of each kind behind the medians. */
  samples: number;
}
