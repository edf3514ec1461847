// Reference model throughput and memory: `npx tsx bench/model.ts`.
// 1. put + reserve + delete cycles per second (one producer, one worker, one tube).
// 2. heap bytes per held READY job beyond its body (200,000 jobs with 100-byte bodies).
import v8 from 'node:v8';
import vm from 'node:vm';
import { createModel } from '../src/model/index.js';
import type { Output } from '../src/model/index.js';

const CYCLES = 2_000_000;
const HELD_JOBS = 200_000;
const BODY_BYTES = 100;
const CYCLES_GOAL_PER_SECOND = 1_000_000;
const OVERHEAD_GOAL_BYTES = 200;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function reservedId(outputs: Output[]): number {
  const first = outputs[0];
  if (first === undefined || !('reply' in first) || first.reply.kind !== 'RESERVED') {
    throw new Error(`expected RESERVED, got ${JSON.stringify(outputs)}`);
  }
  return first.reply.id;
}

function cyclesPerSecond(): number {
  const model = createModel();
  const producer = model.connect(0);
  const worker = model.connect(0);
  const body = new Uint8Array(BODY_BYTES);
  const put = { kind: 'put', pri: 1024, delaySeconds: 0, ttrSeconds: 60, body } as const;
  const reserve = { kind: 'reserve' } as const;
  const run = (cycles: number, startUs: number): void => {
    for (let i = 0; i < cycles; i++) {
      const nowUs = startUs + i;
      model.apply(producer, put, nowUs);
      const id = reservedId(model.apply(worker, reserve, nowUs));
      model.apply(worker, { kind: 'delete', id }, nowUs);
    }
  };
  run(CYCLES / 10, 0); // warm up the JIT
  const started = performance.now();
  run(CYCLES, CYCLES);
  const seconds = (performance.now() - started) / 1000;
  model.checkInvariants();
  return CYCLES / seconds;
}

function heapBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Heap growth per held READY job while the model holds bodies that already existed. */
function overheadBytesPerHeldJob(): number {
  // One Uint8Array per body, as the parser hands them over; they are the caller's, not overhead.
  const bodies: Uint8Array[] = Array.from({ length: HELD_JOBS }, () => new Uint8Array(BODY_BYTES));
  // A wall-clock time base, as the embedded server uses.
  const startUs = 1_700_000_000_000_000;
  const before = heapBytes();
  const model = createModel({ startUs });
  const producer = model.connect(startUs);
  for (let i = 0; i < HELD_JOBS; i++) {
    const put = { kind: 'put', pri: i % 2048, delaySeconds: 0, ttrSeconds: 60, body: bodies[i] } as const;
    model.apply(producer, put, startUs + i * 10);
  }
  const growth = heapBytes() - before;
  if (model.jobCount() !== HELD_JOBS || bodies.length !== HELD_JOBS) throw new Error('jobs were lost');
  return growth / HELD_JOBS;
}

const rate = cyclesPerSecond();
const overhead = overheadBytesPerHeldJob();
console.log(`put+reserve+delete: ${Math.round(rate).toLocaleString('en-US')} cycles/s (goal ${CYCLES_GOAL_PER_SECOND.toLocaleString('en-US')})`);
console.log(
  `held READY job (${HELD_JOBS.toLocaleString('en-US')} jobs, ${BODY_BYTES}-byte bodies): ` +
    `${overhead.toFixed(1)} bytes of model overhead beyond its body (goal ≤ ${OVERHEAD_GOAL_BYTES})`,
);
