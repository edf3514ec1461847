#!/usr/bin/env node
// The `beanlab` command. An installed package runs its build, dist/ (tsc output, made when the
// package is packed): plain node, no esbuild or tsx, nothing written to the package's own
// directory, so a read-only global install behaves as a writable one. In a clone, where the
// TypeScript sources are, scripts/dev-bundle.js runs them with no build step (a bundle rebuilt
// whenever a source changes); dist/ is not used there, since it goes stale as sources change.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const devBundler = new URL('../scripts/dev-bundle.js', import.meta.url);
const inClone = existsSync(fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))) && existsSync(fileURLToPath(devBundler));

let entry = new URL('../dist/cli/main.js', import.meta.url).href;
if (inClone) {
  try {
    const { bundledEntry } = await import(devBundler.href);
    entry = pathToFileURL(await bundledEntry()).href;
  } catch (error) {
    // A syntax error in src/ or no esbuild (npm ci not run): say so in one line, not as a trace.
    const detail = error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n') : String(error);
    process.stderr.write(`beanlab: cannot bundle the sources in src/ (run npm ci?):\n${detail}\n`);
    process.exit(2);
  }
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
