// The development path of bin/beanlab.js, used in a clone (where src/ is present) and never in
// an installed package: the sources are bundled with esbuild (a devDependency) into
// node_modules/.cache/beanlab, rebuilt whenever a file under src/ changes, and the bundle is run
// by plain node, so editing a source file needs no build step. Why not a loader hook such as
// tsx's: it keeps a second V8 isolate alive for the whole process (about 40 MiB of RSS), which
// the embedded server should not carry.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const cacheDir = join(root, 'node_modules', '.cache', 'beanlab');

/** Every source file with its mtime and size: a change to any of them means a new bundle. */
function sourceStamp() {
  const hash = createHash('sha1');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const { mtimeMs, size } = statSync(path);
        hash.update(`${relative(srcDir, path)}:${mtimeMs}:${size}\n`);
      }
    }
  };
  walk(srcDir);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundled code runs from the cache folder, so `import.meta.url` would point there; each
 * source file gets its own original URL instead (the corpus and bin paths are relative to it).
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/** Path of the bundled CLI entry (main.js) for the current sources, built if missing. */
export async function bundledEntry() {
  const outDir = join(cacheDir, sourceStamp());
  mkdirSync(cacheDir, { recursive: true });
  const entry = join(outDir, 'main.js');
  if (existsSync(entry)) return entry;
  const { build } = await import('esbuild');
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  await build({
    entryPoints: [join(srcDir, 'cli', 'main.ts')],
    outdir: tmpDir,
    bundle: true,
    splitting: true, // each subcommand's chunk (and its dependencies) loads only when run
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
    plugins: [keepImportMetaUrl],
  });
  try {
    renameSync(tmpDir, outDir);
  } catch {
    rmSync(tmpDir, { recursive: true, force: true }); // another process built it first
  }
  // Bundles of older sources are dead weight; remove them (best effort).
  for (const name of readdirSync(cacheDir)) {
    if (join(cacheDir, name) !== outDir && !name.includes('.tmp-')) {
      rmSync(join(cacheDir, name), { recursive: true, force: true });
    }
  }
  return entry;
}

