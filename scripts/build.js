#!/usr/bin/env node
// `npm run build`, also run by `prepare` (npm ci, npm pack, npm publish, git installs): compiles
// src/ into dist/ with tsc (JavaScript and .d.ts files, same folder layout), then copies the
// corpus transcripts to dist/conformance/corpus/, where the compiled corpus loader looks for
// them (beside itself, as the source does). dist/ is emptied first so that a source file
// removed or renamed leaves no stale module behind.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('build: tsc failed');
  process.exit(compiled.status ?? 1);
}
const corpusSrc = join(root, 'src', 'conformance', 'corpus');
const corpusDist = join(dist, 'conformance', 'corpus');
for (const name of readdirSync(corpusSrc).filter((file) => file.endsWith('.txt'))) {
  cpSync(join(corpusSrc, name), join(corpusDist, name));
}
