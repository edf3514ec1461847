// Stats bodies (docs/semantics.md d.1-d.3, probe 96) and tube lifetime (b.6, probes 89, 90).
import { describe, expect, it } from 'vitest';
import { Harness, put } from './harness.js';

const keys = (body: string): string[] => body.split('\n').slice(1, -1).map((line) => line.slice(0, line.indexOf(':')));

describe('stats field order and quoting', () => {
  it('stats lists every field in the server order', () => {
    const h = new Harness();
    const c = h.connect();
    const body = h.okBody(c, { kind: 'stats' });
    expect(body.startsWith('---\n') && body.endsWith('\n')).toBe(true);
    expect(keys(body)).toEqual([
      'current-jobs-urgent', 'current-jobs-ready', 'current-jobs-reserved', 'current-jobs-delayed',
      'current-jobs-buried', 'cmd-put', 'cmd-peek', 'cmd-peek-ready', 'cmd-peek-delayed', 'cmd-peek-buried',
      'cmd-reserve', 'cmd-reserve-with-timeout', 'cmd-delete', 'cmd-release', 'cmd-use', 'cmd-watch',
      'cmd-ignore', 'cmd-bury', 'cmd-kick', 'cmd-touch', 'cmd-stats', 'cmd-stats-job', 'cmd-stats-tube',
      'cmd-list-tubes', 'cmd-list-tube-used', 'cmd-list-tubes-watched', 'cmd-pause-tube', 'job-timeouts',
      'total-jobs', 'max-job-size', 'current-tubes', 'current-connections', 'current-producers',
      'current-workers', 'current-waiting', 'total-connections', 'pid', 'version', 'rusage-utime',
      'rusage-stime', 'uptime', 'binlog-oldest-index', 'binlog-current-index', 'binlog-records-migrated',
      'binlog-records-written', 'binlog-max-size', 'draining', 'id', 'hostname', 'os', 'platform',
    ]);
  });

  it('1.12 quotes only the version; 1.13 also names and uname strings (probe 96)', () => {
    const info = { pid: 4242, instanceId: 'a1b2c3d4e5f60718', hostname: 'vm', os: '#1 SMP x', platform: 'x86_64', rusage: () => ({ userUs: 1_500_002, systemUs: 7 }) };
    for (const profile of ['1.12', '1.13'] as const) {
      const h = new Harness({ profile, info, maxJobSize: 10 });
      const c = h.connect();
      h.send(c, put('x'));
      const q = (v: string) => (profile === '1.13' ? `"${v}"` : v);
      const stats = h.okBody(c, { kind: 'stats' });
      expect(stats).toContain(`\npid: 4242\nversion: "${profile}"\nrusage-utime: 1.500002\nrusage-stime: 0.000007\n`);
      expect(stats).toContain('\nmax-job-size: 10\n');
      expect(stats).toContain('\nbinlog-max-size: 10485760\ndraining: false\nid: a1b2c3d4e5f60718\n');
      expect(stats.endsWith(`hostname: ${q('vm')}\nos: ${q('#1 SMP x')}\nplatform: ${q('x86_64')}\n`)).toBe(true);
      expect(h.okBody(c, { kind: 'stats-tube', tube: 'default' })).toContain(`---\nname: ${q('default')}\n`);
      expect(h.okBody(c, { kind: 'stats-job', id: 1 })).toContain(`\ntube: ${q('default')}\n`);
      expect(h.model.profile).toBe(profile);
    }
  });

  it('stats-tube and stats-job are complete and exact', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x', 1023, 0, 0));
    h.send(c, put('y', 1024));
    expect(h.okBody(c, { kind: 'stats-tube', tube: 'default' })).toBe(
      '---\nname: default\ncurrent-jobs-urgent: 1\ncurrent-jobs-ready: 2\ncurrent-jobs-reserved: 0\n' +
        'current-jobs-delayed: 0\ncurrent-jobs-buried: 0\ntotal-jobs: 2\ncurrent-using: 1\ncurrent-watching: 1\n' +
        'current-waiting: 0\ncmd-delete: 0\ncmd-pause-tube: 0\npause: 0\npause-time-left: 0\n',
    );
    expect(h.okBody(c, { kind: 'stats-job', id: 1 })).toBe(
      '---\nid: 1\ntube: default\nstate: ready\npri: 1023\nage: 0\ndelay: 0\nttr: 1\ntime-left: 0\nfile: 0\n' +
        'reserves: 0\ntimeouts: 0\nreleases: 0\nburies: 0\nkicks: 0\n',
    );
    expect(h.send(c, { kind: 'stats-job', id: 0 })).toEqual(['c1: NOT_FOUND']);
  });

  it('producers, workers, waiting and connections follow d.1 (probe 95)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, put('x'));
    h.send(b, { kind: 'reserve-job', id: 1 });
    h.send(b, { kind: 'kick-job', id: 1 });
    const w = h.connect();
    h.send(w, { kind: 'reserve' });
    let stats = h.stats(a, { kind: 'stats' });
    expect(['current-producers', 'current-workers', 'current-waiting', 'current-connections'].map((k) => stats.get(k)))
      .toEqual(['1', '2', '1', '3']);
    h.model.disconnect(w, 0);
    stats = h.stats(a, { kind: 'stats' });
    expect(['current-workers', 'current-waiting', 'current-connections', 'total-connections'].map((k) => stats.get(k)))
      .toEqual(['1', '0', '2', '3']);
  });
});

describe('tube lifetime', () => {
  it('a tube goes when its last reference goes; the list keeps swap-with-last order (probes 89, 90)', () => {
    const h = new Harness();
    const c = h.connect();
    for (const tube of ['t1', 't2', 't3', 't4']) h.send(c, { kind: 'watch', tube });
    h.send(c, { kind: 'ignore', tube: 't1' });
    expect(h.list(c, { kind: 'list-tubes' })).toEqual(['default', 't4', 't2', 't3']);
    expect(h.send(c, { kind: 'stats-tube', tube: 't1' })).toEqual(['c1: NOT_FOUND']);
    expect(h.stats(c, { kind: 'stats' }).get('current-tubes')).toBe('4');
  });

  it('jobs hold their tube; deleting the last job deletes it with its pause and counters', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'use', tube: 'j' });
    h.send(c, put('x'));
    h.send(c, { kind: 'pause-tube', tube: 'j', delaySeconds: 100 });
    h.send(c, { kind: 'use', tube: 'default' });
    expect(h.stats(c, { kind: 'stats-tube', tube: 'j' }).get('pause')).toBe('100');
    h.send(c, { kind: 'delete', id: 1 });
    expect(h.send(c, { kind: 'stats-tube', tube: 'j' })).toEqual(['c1: NOT_FOUND']);
    expect(h.model.nextDeadline()).toBeUndefined();
    h.send(c, { kind: 'use', tube: 'j' });
    const fresh = h.stats(c, { kind: 'stats-tube', tube: 'j' });
    expect([fresh.get('pause'), fresh.get('total-jobs'), fresh.get('cmd-delete')]).toEqual(['0', '0', '0']);
  });

  it('closing a connection drops its tubes in ms_clear order', () => {
    const h = new Harness();
    const keep = h.connect();
    const c = h.connect();
    for (const tube of ['a', 'b', 'c']) h.send(c, { kind: 'watch', tube });
    h.send(keep, { kind: 'watch', tube: 'b' });
    h.send(keep, { kind: 'use', tube: 'z' });
    expect(h.list(keep, { kind: 'list-tubes' })).toEqual(['default', 'a', 'b', 'c', 'z']);
    h.model.disconnect(c, 0);
    h.model.checkInvariants();
    // ms_clear: default leaves slot 0 to c, so c is dropped first (z takes its slot), then b
    // (still watched by keep), then a (z moves again): default, z, b
    expect(h.list(keep, { kind: 'list-tubes' })).toEqual(['default', 'z', 'b']);
  });

  it('default never goes away', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'watch', tube: 'x' });
    h.send(c, { kind: 'ignore', tube: 'default' });
    h.send(c, { kind: 'use', tube: 'x' });
    expect(h.list(c, { kind: 'list-tubes' })).toEqual(['default', 'x']);
  });
});
