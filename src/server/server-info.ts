// The per-process values a real beanstalkd reports in `stats`, taken from this process.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ServerInfo } from '../model/api.js';

export function processServerInfo(overrides: Partial<ServerInfo> = {}): ServerInfo {
  return {
    pid: process.pid,
    instanceId: randomBytes(8).toString('hex'),
    hostname: os.hostname(),
    // beanstalkd reports uname's `version` and `machine` fields as `os` and `platform`.
    os: os.version(),
    platform: os.machine(),
    rusage: () => {
      const usage = process.cpuUsage();
      return { userUs: usage.user, systemUs: usage.system };
    },
    ...overrides,
  };
}
