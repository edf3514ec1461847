// SLOW (about 10-30 s; one file, so the tarball is built once): the package as a user gets it.
// `npm pack` runs `prepare`, which builds dist/ with tsc; the tarball is then installed into a
// fresh project in a temp dir and used from there: imported, type-checked against, and its CLI
// run by another user from a read-only install (the case where beanlab used to fall back to
// tsx silently). The install is `npm ci --offline` with a lockfile made from this repository's
// own (the runtime dependencies at the versions CI installed), so it needs no network.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';

const root = resolve(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
}

/** npm as the test runner's npm (`npm test` sets npm_execpath) or the one on PATH. */
function npm(args: string[], cwd: string, timeoutMs: number): string {
  const cli = process.env.npm_execpath;
  const [command, argv] = cli && cli.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', args];
  return execFileSync(command, argv, { cwd, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every file under dir with its size and mtime: equal before and after means nothing was written. */
function treeStamp(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const stat = statSync(full);
      out.push(`${relative(dir, full)} ${stat.size} ${stat.mtimeMs}`);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

const runningAsRoot = process.getuid?.() === 0;

/**
 * Runs the installed CLI as another user (nobody) when this process is root, else as this
 * user; either way the install is read-only for whoever runs it (root ignores file modes).
 */
function asOtherUser(cwd: string, command: string, args: string[]): SpawnSyncReturns<string> {
  const [file, argv] = runningAsRoot ? ['runuser', ['-u', 'nobody', '--', command, ...args]] : [command, args];
  return spawnSync(file, argv, { cwd, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
}

let work = '';
let project = '';
let packed: PackResult;

describe('the npm package (slow: npm pack + offline install)', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'beanlab-package-'));
    chmodSync(work, 0o755); // another user must reach the install
    const results = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root, 180_000)) as PackResult[];
    packed = results[0];

    project = join(work, 'project');
    execFileSync('mkdir', ['-m', '755', project]);
    const tarball = `file:../${packed.filename}`;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }>;
    };
    const runtime = Object.fromEntries(
      Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev),
    );
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', type: 'module', dependencies: { beanlab: tarball } }));
    writeFileSync(
      join(project, 'package-lock.json'),
      JSON.stringify({
        name: 'user-project',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'user-project', version: '1.0.0', dependencies: { beanlab: tarball } },
          'node_modules/beanlab': { version: manifest.version, resolved: tarball, dependencies: manifest.dependencies, bin: { beanlab: 'bin/beanlab.js' } },
          ...runtime,
        },
      }),
    );
    npm(['ci', '--offline', '--no-audit', '--no-fund'], project, 120_000);
    execFileSync('chmod', ['-R', 'a-w', join(project, 'node_modules')]);
  }, 300_000);

  afterAll(() => {
    if (!work) return;
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  });

  it('ships dist/ with .d.ts files, the corpus, scenarios, schema and docs; no tests, benches or sources', () => {
    const paths = packed.files.map((file) => file.path);
    const allowed =
      /^(package\.json|README\.md|LICENSE|bin\/beanlab\.js|dist\/.+|scenarios\/[^/]+\.yaml|schema\/[^/]+\.json|docs\/[^/]+\.md|src\/conformance\/README\.md|src\/conformance\/corpus\/FORMAT\.md)$/;
    expect(paths.filter((path) => !allowed.test(path))).toEqual([]);
    expect(paths.filter((path) => /(^|\/)(test|bench|\.ci|scripts)\/|\.test\.|vitest|tsconfig/.test(path))).toEqual([]);
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/model/index.js', 'dist/model/index.d.ts', 'dist/cli/main.js', 'schema/scenario.schema.json', 'scenarios/smoke.yaml', 'docs/semantics.md', 'docs/architecture.md']) {
      expect(paths, needed).toContain(needed);
    }
    const js = paths.filter((path) => path.startsWith('dist/') && path.endsWith('.js'));
    expect(js.filter((path) => !paths.includes(path.replace(/\.js$/, '.d.ts')))).toEqual([]);
    const corpus = readdirSync(join(root, 'src', 'conformance', 'corpus')).filter((name) => name.endsWith('.txt'));
    expect(paths.filter((path) => path.startsWith('dist/conformance/corpus/')).sort()).toEqual(corpus.map((name) => `dist/conformance/corpus/${name}`).sort());
  });

  it('installs without esbuild or tsx, and imports as beanlab and beanlab/model with working functions', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).toContain('beanlab');
    expect(installed.filter((name) => name === 'esbuild' || name === 'tsx' || name.startsWith('@esbuild'))).toEqual([]);
    const script = `
      import { loadScenario, scenarioSchema } from 'beanlab';
      import { createModel } from 'beanlab/model';
      import { loadCorpus } from './node_modules/beanlab/dist/conformance/corpus.js';
      const scenario = await loadScenario('node_modules/beanlab/scenarios/smoke.yaml');
      const model = createModel();
      console.log(JSON.stringify({
        loadScenario: typeof loadScenario, createModel: typeof createModel, schema: typeof scenarioSchema.parse,
        scenario: scenario.name, apply: typeof model.apply, corpusCases: loadCorpus().length,
      }));`;
    writeFileSync(join(project, 'use.mjs'), script);
    const out = execFileSync(process.execPath, [join(project, 'use.mjs')], { cwd: project, encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({
      loadScenario: 'function',
      createModel: 'function',
      schema: 'function',
      scenario: 'smoke',
      apply: 'function',
      corpusCases: loadCorpus().length,
    });
  });

  it('runs the library API from the installed package: simulate, compareResults, runLoad on the embedded server, mergeResults, runConformance', () => {
    const script = `
      import { simulate, compareResults, mergeResults, runLoad, resultSchema, loadResultSchema, runConformance, conformanceResultSchema } from 'beanlab';
      const scenario = {
        name: 'package', durationSeconds: 1, tubes: ['work'],
        producers: [{ tube: 'work', arrival: { process: 'constant', ratePerSecond: 40 }, bodyBytes: 64 }],
        workers: [{ count: 2, watch: ['work'], service: { distribution: 'constant', seconds: 0 } }],
        load: { drainSeconds: 5 },
      };
      const sim = await simulate(scenario, { seed: 1 });
      const same = compareResults(sim, sim);
      const load = await runLoad(scenario, { seed: 1 });
      const merged = mergeResults([load, load]);
      const checked = [];
      const conformance = await runConformance({ kind: 'embedded' }, { only: 'framing/line/basic-', seed: 1, onResult: (check) => checked.push(check.id) });
      const parsed = conformanceResultSchema.safeParse(JSON.parse(JSON.stringify(conformance[0])));
      console.log(JSON.stringify({
        sim: { completed: sim.jobs.completed, valid: resultSchema.safeParse(sim).success },
        compare: { regression: same.regression, rows: same.rows.length > 0 },
        load: { target: load.load.target, completedAll: load.jobs.completed === load.jobs.put, put: load.jobs.put > 30, lost: load.jobs.lost, valid: loadResultSchema.safeParse(load).success },
        merged: merged.jobs.put === 2 * load.jobs.put,
        conformance: { results: conformance.length, target: conformance[0].target, passed: conformance[0].passed, failed: conformance[0].failed, reported: checked.length, version: conformance[0].version, valid: parsed.success },
      }));`;
    writeFileSync(join(project, 'api.mjs'), script);
    const out = execFileSync(process.execPath, [join(project, 'api.mjs')], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({
      sim: { completed: 40, valid: true },
      compare: { regression: false, rows: true },
      load: { target: expect.stringMatching(/^embedded/), completedAll: true, put: true, lost: 0, valid: true },
      merged: true,
      conformance: { results: 1, target: 'embedded server', passed: 3, failed: 0, reported: 3, version: 1, valid: true },
    });
  }, 90_000);

  it("type-checks a user's TypeScript, and the docs' conformance example, against the shipped declarations", () => {
    writeFileSync(
      join(project, 'use.ts'),
      `import { compareResults, loadScenario, mergeResults, runConformance, runLoad, simulate, type Comparison, type ConformanceResult, type LoadResult, type Result, type Scenario } from 'beanlab';
       import { createModel, type ReferenceModel } from 'beanlab/model';
       export async function names(path: string): Promise<string> {
         const scenario: Scenario = await loadScenario(path);
         const model: ReferenceModel = createModel();
         // @ts-expect-error a number is no path: proves the declarations are read, not any
         await loadScenario(42);
         const simulated: Result = await simulate(scenario, { seed: 1, onProgress: (p) => void p.fraction });
         const measured: LoadResult = await runLoad(scenario, { target: { kind: 'spawn', command: 'beanstalkd -p {port}' } });
         const comparison: Comparison = compareResults(simulated, measured, { thresholds: 'p99=+10%', force: true });
         const conformance: ConformanceResult[] = await runConformance([{ kind: 'address', address: '127.0.0.1:11300' }], { profile: '1.13', quick: true });
         // @ts-expect-error a profile beanlab does not model
         await runConformance({ kind: 'embedded' }, { profile: '1.11' });
         // @ts-expect-error a mode that does not exist
         mergeResults([measured], { mode: 'parallel' });
         return scenario.name + String(model) + comparison.regression + mergeResults([measured]).kind + conformance.length;
       }\n`,
    );
    // The docs' example of a user's CI test, against the shipped declarations (vitest itself is
    // not installed in this project: a stand-in declares what the example uses of it).
    writeFileSync(join(project, 'conformance-example.ts'), readFileSync(join(root, 'docs', 'examples', 'conformance.test.ts'), 'utf8'));
    writeFileSync(
      join(project, 'vitest-stand-in.d.ts'),
      `declare module 'vitest' {
         export function describe(name: string, body: () => void): void;
         export function it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
         export function expect(value: unknown): { toEqual(expected: unknown): void; toBeGreaterThan(n: number): void };
       }\n`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] },
        files: ['use.ts', 'conformance-example.ts', 'vitest-stand-in.d.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8', timeout: 60_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it(`a read-only install runs as ${runningAsRoot ? 'another user (nobody)' : 'this user'}: --version, --help, sim, serve; writes nothing into itself`, async () => {
    const before = treeStamp(join(project, 'node_modules', 'beanlab'));
    const bin = join(project, 'node_modules', '.bin', 'beanlab');

    const version = asOtherUser(project, bin, ['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout).toBe(`${manifest.version}\n`);
    const help = asOtherUser(project, bin, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: beanlab');
    const sim = asOtherUser(project, bin, ['sim', 'node_modules/beanlab/scenarios/smoke.yaml', '--seed', '1']);
    expect(sim.stderr + sim.stdout).toContain('seed: 1');
    expect(sim.status).toBe(0);

    // The embedded server, the process whose footprint beanlab measures, starts from dist/ too.
    const [file, argv] = runningAsRoot ? ['runuser', ['-u', 'nobody', '--', bin, 'serve', '--port', '0']] : [bin, ['serve', '--port', '0']];
    // Its own process group, so that the stop below reaches node under runuser too.
    const serve = spawn(file, argv, { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const listening = await new Promise<string>((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`serve did not listen within 15 s: ${out}`)), 15_000);
      const read = (chunk: Buffer) => {
        out += chunk;
        if (out.includes('listening on')) {
          clearTimeout(timer);
          done(out);
        }
      };
      serve.stdout.on('data', read);
      serve.stderr.on('data', read);
      serve.once('exit', (code) => fail(new Error(`serve exited (${code}): ${out}`)));
    });
    expect(listening).toMatch(/beanlab serve: listening on 127\.0\.0\.1:\d+/);
    const exited = new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('serve did not stop within 10 s of SIGTERM')), 10_000);
      serve.once('exit', (code, signal) => {
        clearTimeout(timer);
        done(`${code} ${signal}`);
      });
    });
    process.kill(-serve.pid!, 'SIGTERM');
    // runuser passes the signal on, waits for node's clean exit, then dies of the same signal.
    expect(await exited).toBe(runningAsRoot ? 'null SIGTERM' : '0 null');

    const npx = spawnSync('npx', ['--offline', 'beanlab', '--version'], { cwd: project, encoding: 'utf8', timeout: 30_000 });
    expect(npx.stdout).toBe(`${manifest.version}\n`);

    expect(treeStamp(join(project, 'node_modules', 'beanlab'))).toEqual(before);
  }, 90_000);
});
