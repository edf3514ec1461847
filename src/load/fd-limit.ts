// Open files: every producer, worker and kicker connection is a descriptor, in beanlab and in a
// server it starts (which inherits beanlab's limit). At `ulimit -n 1024` a thousand workers used
// to end in an uncaught EMFILE half-way through connecting. Node raises its own soft limit to the
// hard one when it starts (node.cc, PlatformInit: `ulimit -S -n 1024` under a hard limit of 20000
// reads 20000 in /proc/self/limits), and it has no setrlimit to go further; so the CLI reads the
// limit it got and, if that is short, says so in one line before any load starts.
import { readFileSync } from 'node:fs';
import type { LoadPlan } from './plan.js';

/** Descriptors a Node process and a run use besides connections: stdio, epoll, pipes, files. */
const BASE_DESCRIPTORS = 64;

export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/** The `Max open files` line of /proc/PID/limits; `unlimited` is Infinity. */
export function parseOpenFilesLimit(limits: string): OpenFilesLimit | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!m) return undefined;
  const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
  return { soft: value(m[1]), hard: value(m[2]) };
}

/** This process's limit; undefined where /proc cannot tell (not Linux). */
export function readOpenFilesLimit(): OpenFilesLimit | undefined {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

export interface DescriptorNeeds {
  total: number;
  producerConnections: number;
  workerConnections: number;
}

/** What one run opens at once, in beanlab's process (a server it starts needs about as many). */
export function descriptorsNeeded(plan: LoadPlan): DescriptorNeeds {
  const http = plan.scenario.load.http;
  let producerConnections = plan.producers.length * plan.connections;
  if (http) {
    // autocannon's connections end in this process too, at the HTTP front end: two each.
    for (const p of plan.producers) {
      const rate = p.spec.arrival.process === 'constant' ? p.spec.arrival.ratePerSecond : 1;
      producerConnections += 2 * Math.max(1, Math.min(http.connections, Math.floor(rate)));
    }
  }
  const workerConnections = plan.scenario.workers.reduce((sum, w) => sum + w.count, 0);
  // The control connection, the final audit's and the kickers'.
  const others = 2 + plan.scenario.kickers.length;
  return { total: producerConnections + workerConnections + others + BASE_DESCRIPTORS, producerConnections, workerConnections };
}
