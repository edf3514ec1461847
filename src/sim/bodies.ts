// Zero-filled put bodies, one per size for the whole run rather than one per put: the simulator
// only needs a body's size (the model stores it, stats report it), never its bytes.

/** Zero-filled bodies, one per size for the whole run rather than one per put. */
export class BodyCache {
  private readonly bySize = new Map<number, Uint8Array>();
  private last: Uint8Array = new Uint8Array(0);

  body(bytes: number): Uint8Array {
    // Most producers put one size: the last body answers without a lookup.
    if (this.last.length === bytes) return this.last;
    let body = this.bySize.get(bytes);
    if (body === undefined) {
      body = new Uint8Array(bytes);
      this.bySize.set(bytes, body);
    }
    this.last = body;
    return body;
  }
}
