// docs/semantics.md is the project's own specification: every corpus case cites it
// ("semantics a.0/5", "semantics a.1 step 3", "semantics h.16", "probe 33"), so each of those
// references must name a section, item or probe row that exists in it. And nothing in the
// repository may send a reader to a document outside it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const SPEC = readFileSync(join(root, 'docs', 'semantics.md'), 'utf8');

interface Part {
  heading: string;
  lines: string[];
}

/** The document cut at its headings: `## (a) ...` sections and `### a.3 ...` subsections. */
function index(text: string): { sections: Map<string, Part>; subsections: Map<string, Part> } {
  const sections = new Map<string, Part>();
  const subsections = new Map<string, Part>();
  let section: Part | undefined;
  let subsection: Part | undefined;
  for (const line of text.split('\n')) {
    const top = /^## \(([a-h])\)/.exec(line);
    const sub = /^### ([a-h]\.\d+) /.exec(line);
    if (top) {
      section = { heading: line, lines: [] };
      sections.set(top[1], section);
      subsection = undefined;
    } else if (sub) {
      subsection = { heading: line, lines: [] };
      subsections.set(sub[1], subsection);
    } else if (/^#{1,3} /.test(line)) {
      section = undefined;
      subsection = undefined;
    }
    section?.lines.push(line);
    subsection?.lines.push(line);
  }
  return { sections, subsections };
}

const { sections, subsections } = index(SPEC);

/** A numbered list item `N. ` in these lines (top level or nested, as a.1's "Order of checks"). */
function hasItem(part: Part | undefined, n: string): boolean {
  return part !== undefined && part.lines.some((line) => new RegExp(`^\\s*${n}\\. `).test(line));
}

/** Whether one reference (`a`, `a.3`, `a.0/5`, `a.1 step 3`, `h.16`) names something in the doc. */
function resolves(ref: string): boolean {
  const m = /^([a-h])(?:\.(\d+))?(?:\/(\d+)| steps? (\d+))?$/.exec(ref);
  if (!m) return false;
  const [, letter, number, slashItem, stepItem] = m;
  if (number === undefined) return sections.has(letter);
  const key = `${letter}.${number}`;
  const item = slashItem ?? stepItem;
  const sub = subsections.get(key);
  if (sub) return item === undefined || hasItem(sub, item);
  // (e)-(h) have no subsections: `h.16` is item 16 of section (h).
  return item === undefined && hasItem(sections.get(letter), number);
}

function probeExists(n: string): boolean {
  return (sections.get('g')?.lines ?? []).some((line) => line.startsWith(`| ${n} |`));
}

/**
 * The references after each "semantics " in a line: "a.0/6, a.12", "a.1 steps 1, 4",
 * "a.4-a.8", "h.15 says ..." (stops at the first word that is not a reference).
 */
export function semanticsRefs(line: string): string[] {
  const refs: string[] = [];
  for (const match of line.matchAll(/\bsemantics (?:doc )?([^;)"]*)/g)) {
    let previous: string | undefined;
    for (const token of match[1].split(/,\s*|\s+and\s+/)) {
      const step = /^\d+$/.exec(token.trim());
      if (step && previous) {
        refs.push(`${previous} step ${step[0]}`);
        continue;
      }
      const ref = /^([a-h](?:\.\d+)?(?:\/\d+)?)(?:-([a-h]\.\d+))?(?: (steps?) (\d+))?/.exec(token.trim());
      if (!ref) break;
      previous = ref[1];
      refs.push(ref[4] ? `${ref[1]} step ${ref[4]}` : ref[1]);
      if (ref[2]) refs.push(ref[2]);
      if (token.trim().length > ref[0].length) break; // prose follows
    }
  }
  return refs;
}

function corpusLines(): Array<{ where: string; line: string }> {
  const dir = join(root, 'src', 'conformance', 'corpus');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `corpus/${name}:${i + 1}`, line }))
        .filter(({ line }) => /^(rule|source|note):/.test(line)),
    );
}

describe('docs/semantics.md, the specification the corpus cites', () => {
  it('resolves references that exist and rejects ones that do not', () => {
    for (const ref of ['a', 'c', 'f', 'a.0', 'a.3', 'a.0/5', 'a.0/10', 'a.1 step 3', 'a.1/9', 'b.7', 'd.3', 'h.2', 'h.19']) {
      expect(resolves(ref), ref).toBe(true);
    }
    for (const ref of ['i', 'a.17', 'b.8', 'a.0/11', 'a.1 step 10', 'a.3/9', 'h.20', 'g.1', 'x.1']) {
      expect(resolves(ref), ref).toBe(false);
    }
    expect(probeExists('1')).toBe(true);
    expect(probeExists('98')).toBe(true);
    expect(probeExists('999')).toBe(false);
    expect(semanticsRefs('rule: x (protocol.txt; semantics a.1 steps 1, 4, a.0/6; other)')).toEqual(['a.1 step 1', 'a.1 step 4', 'a.0/6']);
    expect(semanticsRefs('note: semantics a.4-a.8, a.12 and h.15 says tests should avoid it')).toEqual(['a.4', 'a.8', 'a.12', 'h.15']);
  });

  it('has every section, item and probe row a corpus case cites', () => {
    const lines = corpusLines();
    const refs = lines.flatMap(({ where, line }) => semanticsRefs(line).map((ref) => ({ where, ref })));
    const probes = lines.flatMap(({ where, line }) => [...line.matchAll(/\bprobes? (\d+(?:(?:, | and )\d+)*)/g)].flatMap((m) => m[1].split(/, | and /).map((n) => ({ where, n }))));
    expect(refs.length).toBeGreaterThan(200); // the corpus does cite it, so the check is not empty
    expect(probes.length).toBeGreaterThan(50);
    expect(refs.filter(({ ref }) => !resolves(ref)).map(({ where, ref }) => `${where}: semantics ${ref}`)).toEqual([]);
    expect(probes.filter(({ n }) => !probeExists(n)).map(({ where, n }) => `${where}: probe ${n}`)).toEqual([]);
  });

  it('is the only semantics document the repository points to (none outside it)', () => {
    const outside = [['..', 'shared'].join('/'), ['', 'work', 'shared'].join('/'), ['beanstalkd', 'semantics.md'].join('-')];
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', 'dist', '.git', 'reports'].includes(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|js|md|txt|json|yaml|sh)$|^run$/.test(entry.name)) {
          const text = readFileSync(path, 'utf8');
          for (const needle of outside) if (text.includes(needle)) offenders.push(`${relative(root, path)}: ${needle}`);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
