// Loads the transcript corpus shipped in ./corpus (every *.txt file) and checks that case ids
// are unique across files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTranscript, TranscriptError, type TranscriptCase } from './transcript.js';

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

export function loadCorpus(dir: string = CORPUS_DIR): TranscriptCase[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort();
  const cases = files.flatMap((name) => parseTranscript(readFileSync(join(dir, name), 'utf8'), `corpus/${name}`));
  const seen = new Map<string, TranscriptCase>();
  for (const c of cases) {
    const first = seen.get(c.id);
    if (first) throw new TranscriptError(c.file, c.line, `case id ${c.id} already used at ${first.file}:${first.line}`);
    seen.set(c.id, c);
  }
  return cases;
}
