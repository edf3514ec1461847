// A timeout that loses to I/O which has already happened. Timers run before I/O in each turn of
// Node's event loop: on a loop blocked past the timeout (a loaded machine, a long synchronous
// step), a connection or a reply that arrived meanwhile is only seen in the I/O phase after the
// timer. `setImmediate` runs after that phase, so `onTimeout` runs only if nothing came first;
// the caller's own handlers clear the returned timer or see `settled`.

/** Arms a timeout that fires after the I/O of the turn in which it is due; returns its cancel. */
export function timeoutAfterIo(timeoutMs: number, onTimeout: () => void): () => void {
  let cancelled = false;
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(() => {
      if (!cancelled) onTimeout();
    });
  }, timeoutMs);
  return () => {
    cancelled = true;
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
