// When a load run's figures can be trusted, SLOs aside: no run-level error, no job lost, kept
// after its delete, handed out twice or left unverified, every operation answered, every tube
// holding what the run says it left there, every scheduled HTTP request sent, and (merged shards)
// every completion claimed by the shard that put the job. Pure; used by the
// runner and by merge, which must agree.
import type { LoadDetails } from './load-result.js';
import type { JobCounts } from './result.js';

export function isSound(jobs: JobCounts, load: LoadDetails): boolean {
  const i = load.integrity;
  return (
    load.errors.length === 0 &&
    jobs.lost === 0 &&
    (jobs.unverified ?? 0) === 0 &&
    i.duplicateDeliveries === 0 &&
    (i.undeleted ?? 0) === 0 &&
    (i.unclaimedCompletions ?? 0) === 0 &&
    (i.tubeMismatches ?? []).length === 0 &&
    (load.unanswered?.total ?? 0) === 0 &&
    (load.http?.neverSent ?? 0) === 0
  );
}
