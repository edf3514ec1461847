// A ReferenceModel that hands every call to another one. The server's wrappers around the model
// (fault injection, the binlog's journal) extend it and override only the calls they watch.
import type { ConnId, JobView, Output, ReferenceModel } from '../model/api.js';
import type { Request } from '../protocol/types.js';

export class ForwardingModel implements ReferenceModel {
  constructor(readonly inner: ReferenceModel) {}

  get profile() {
    return this.inner.profile;
  }
  get maxJobSize() {
    return this.inner.maxJobSize;
  }
  connect(nowUs: number): ConnId {
    return this.inner.connect(nowUs);
  }
  apply(conn: ConnId, request: Request, nowUs: number): Output[] {
    return this.inner.apply(conn, request, nowUs);
  }
  tick(nowUs: number): Output[] {
    return this.inner.tick(nowUs);
  }
  nextDeadline(): number | undefined {
    return this.inner.nextDeadline();
  }
  hangup(conn: ConnId, nowUs: number): Output[] {
    return this.inner.hangup(conn, nowUs);
  }
  disconnect(conn: ConnId, nowUs: number): Output[] {
    return this.inner.disconnect(conn, nowUs);
  }
  isWaiting(conn: ConnId): boolean {
    return this.inner.isWaiting(conn);
  }
  enterDrainMode(): void {
    this.inner.enterDrainMode();
  }
  checkInvariants(): void {
    this.inner.checkInvariants();
  }
  job(id: number): JobView | undefined {
    return this.inner.job(id);
  }
  jobCount(): number {
    return this.inner.jobCount();
  }
}
