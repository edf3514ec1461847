// The Kubernetes and compose manifests of docs/kubernetes.md, parsed (no cluster or docker engine
// needed): every field beanlab relies on, and every beanlab argument in them checked against
// beanlab's own option parser, so a renamed option or an inconsistent shard count fails here.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { register as registerLoad } from '../../src/cli/load.js';
import { register as registerMerge } from '../../src/cli/merge.js';
import { checkRunId, parseShard } from '../../src/load/shard.js';
import { parseScenario } from '../../src/scenario/load.js';

type Doc = Record<string, any>;

const docs = (file: string): Doc[] =>
  // merge: compose files use YAML merge keys (<<: *shard).
  parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Doc;
  });

/** The long options a beanlab command accepts, and which of them take a value. */
function optionsOf(name: 'load' | 'merge'): Map<string, boolean> {
  const program = new Command();
  (name === 'load' ? registerLoad : registerMerge)(program);
  const command = program.commands.find((c) => c.name() === name)!;
  return new Map(command.options.map((o) => [o.long!, o.required || o.optional]));
}

/** Every --option in args is one the command knows, and each one that takes a value has one. */
function expectKnownOptions(command: 'load' | 'merge', args: string[]): Map<string, string | true> {
  const known = optionsOf(command);
  const given = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) continue;
    expect(known.has(args[i]), `beanlab ${command} has no option ${args[i]}`).toBe(true);
    const takesValue = known.get(args[i])!;
    if (takesValue) {
      expect(args[i + 1], `${args[i]} needs a value`).toBeDefined();
      given.set(args[i], args[++i]);
    } else given.set(args[i], true);
  }
  return given;
}

/** $(VAR) references resolved as Kubernetes does, from a map of the container's variables. */
const expand = (text: string, vars: Record<string, string>) =>
  text.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (whole, name: string) => {
    expect(vars, `$(${name}) is not defined in the container's env`).toHaveProperty(name);
    return vars[name];
  });

describe('deploy/kubernetes/beanlab-shards.yaml', () => {
  const all = docs('deploy/kubernetes/beanlab-shards.yaml');
  const byName = (kind: string, name: string) => all.find((d) => d.kind === kind && d.metadata?.name === name)!;
  const run = byName('ConfigMap', 'beanlab-run').data as Record<string, string>;
  const load = byName('Job', 'beanlab-load');
  const merge = byName('Job', 'beanlab-merge');
  const shards = Number(run.SHARDS);

  it('is an Indexed Job of SHARDS pods, all at once, never retried', () => {
    expect(load.apiVersion).toBe('batch/v1');
    expect(load.spec.completionMode).toBe('Indexed');
    expect(shards).toBeGreaterThan(1);
    expect(load.spec.completions).toBe(shards);
    // All shards run at once: the barrier waits for every one of them.
    expect(load.spec.parallelism).toBe(shards);
    // A retried shard would put its slice twice.
    expect(load.spec.backoffLimit).toBe(0);
    expect(load.spec.template.spec.restartPolicy).toBe('Never');
    expect(load.spec.activeDeadlineSeconds).toBeGreaterThan(600);
  });

  it('turns the completion index into --shard I/N, with one run id, a barrier and a result per shard on the shared volume', () => {
    const pod = load.spec.template.spec;
    const [container] = pod.containers;
    const env = new Map<string, Doc>(container.env.map((e: Doc) => [e.name, e]));
    expect(env.get('JOB_COMPLETION_INDEX')!.valueFrom.fieldRef.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    for (const name of ['RUN_ID', 'SHARDS', 'TARGET']) expect(env.get(name)!.valueFrom.configMapKeyRef).toEqual({ name: 'beanlab-run', key: name });
    expect(container.args[0]).toBe('load');
    const files = new Set<string>();
    for (let index = 0; index < shards; index++) {
      const args = (container.args as string[]).map((a) => expand(a, { ...run, JOB_COMPLETION_INDEX: String(index) }));
      const given = expectKnownOptions('load', args);
      expect(parseShard(given.get('--shard') as string)).toEqual({ index, count: shards });
      expect(checkRunId(given.get('--run-id') as string)).toBe(run.RUN_ID);
      expect(given.get('--barrier')).toBe(true);
      expect(given.get('--target')).toMatch(/^[a-z0-9.-]+:\d+$/);
      files.add(given.get('--json') as string);
      // The scenario comes from the ConfigMap mounted where the args say.
      const mount = container.volumeMounts.find((m: Doc) => args[1].startsWith(m.mountPath + '/'));
      const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
      const key = args[1].slice(mount.mountPath.length + 1);
      expect(byName('ConfigMap', volume.configMap.name).data).toHaveProperty(key);
    }
    // One result file per shard, all on the volume the merge reads.
    expect(files.size).toBe(shards);
    const resultsMount = container.volumeMounts.find((m: Doc) => [...files].every((f) => f.startsWith(m.mountPath + '/')));
    const claim = pod.volumes.find((v: Doc) => v.name === resultsMount.name).persistentVolumeClaim.claimName;
    expect(byName('PersistentVolumeClaim', claim).spec.accessModes).toContain('ReadWriteMany');
    expect(merge.spec.template.spec.volumes.find((v: Doc) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName).toBe(claim);
  });

  it("ships a valid scenario, the same as scenarios/smoke.yaml", () => {
    const text = byName('ConfigMap', 'beanlab-scenario').data['scenario.yaml'];
    expect(parseScenario(text, 'configmap')).toEqual(parseScenario(readFileSync('scenarios/smoke.yaml', 'utf8'), 'smoke'));
  });

  it('merges every shard result of the run once they are all there, bounded in time', () => {
    const [container] = merge.spec.template.spec.containers;
    const script: string = container.args[0];
    expect(script).toMatch(/-ge "\$SHARDS"/);
    expect(script).toMatch(/deadline/);
    const command = /exec beanlab (merge .*)$/m.exec(script)![1].split(/\s+/).map((w) => w.replace(/"/g, ''));
    const given = expectKnownOptions('merge', command.slice(1));
    expect(given.get('--json')).toBe('$dir/merged.json');
    expect(command.at(-1)).toBe('$dir/shard-*.json');
    expect(script).toMatch(/dir="\/results\/\$RUN_ID"/);
    expect(merge.spec.backoffLimit).toBe(0);
    expect(merge.spec.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it('points the shards at the beanstalkd Service of deploy/kubernetes/beanstalkd.yaml', () => {
    const service = docs('deploy/kubernetes/beanstalkd.yaml').find((d) => d.kind === 'Service')!;
    expect(run.TARGET).toBe(`${service.metadata.name}:${service.spec.ports[0].port}`);
  });
});

describe('deploy/compose.yaml', () => {
  const [compose] = docs('deploy/compose.yaml');
  const services = compose.services as Record<string, Doc>;
  const shardServices = Object.keys(services).filter((n) => n.startsWith('shard-'));
  const withRunId = (args: string[]) => args.map((a) => a.replace('${RUN_ID:?set RUN_ID}', 'compose-1'));

  it('runs N shards, each a distinct --shard I/N of one run, meeting at the barrier on the beanstalkd service', () => {
    expect(shardServices.length).toBeGreaterThan(1);
    const seen = new Set<number>();
    for (const name of shardServices) {
      const args = withRunId(services[name].command);
      expect(args[0]).toBe('load');
      const given = expectKnownOptions('load', args);
      const shard = parseShard(given.get('--shard') as string);
      expect(shard.count).toBe(shardServices.length);
      expect(name).toBe(`shard-${shard.index}`);
      seen.add(shard.index);
      expect(given.get('--run-id')).toBe('compose-1');
      expect(given.get('--barrier')).toBe(true);
      expect(given.get('--target')).toBe('beanstalkd:11300');
      expect(services[name].depends_on).toContain('beanstalkd');
    }
    expect(seen.size).toBe(shardServices.length);
  });

  it('merges exactly the files the shards write, outside `up`', () => {
    const written = shardServices.map((n) => expectKnownOptions('load', withRunId(services[n].command)).get('--json'));
    const args: string[] = services.merge.command;
    expect(args[0]).toBe('merge');
    expectKnownOptions('merge', args.slice(1));
    expect(args.filter((a) => a.endsWith('.json') && a !== '/results/merged.json').sort()).toEqual(written.sort());
    expect(services.merge.profiles).toEqual(['merge']);
  });

  it('builds both images from deploy/Dockerfile', () => {
    const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');
    for (const name of ['beanstalkd', ...shardServices]) {
      const build = services[name].build;
      expect(build.dockerfile).toBe('deploy/Dockerfile');
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${build.target}$`, 'm'));
    }
    expect(dockerfile).toMatch(/beanstalkd", "-l", "0\.0\.0\.0", "-p", "11300"/);
  });
});
