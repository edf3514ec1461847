// The conformance result(s) as JUnit XML (`conform --junit FILE`), the format CI systems show
// natively (Jenkins, GitLab, GitHub test reporters): one <testsuite> per server, one <testcase>
// per check with the protocol section as its classname; a skipped check carries its reason, a
// failing one its expected, actual and replay. Ant's junit task layout, which every consumer
// reads (test/fixtures/junit.xsd checks it). Pure: results in, text out.
import type { ConformanceResultView } from './conformance-table.js';

export interface JunitView {
  seed: number | null;
  results: readonly ConformanceResultView[];
  /** Per result: the wall-clock time it took, in seconds (JUnit has no per-check time here: 0). */
  durationsSeconds?: readonly number[];
  /** When the run started (ISO 8601, no zone: JUnit's timestamp is local-free UTC). */
  startedAt: Date;
  hostname: string;
  /** --mutation: one testcase per fault, failing when no check caught it. */
  mutation?: { faults: ReadonlyArray<{ name: string; description: string; caught: boolean; failing: readonly string[] }> };
}

/** A failure's one-line message attribute stays short; the whole story is in the element's text. */
const MESSAGE_CHARS = 500;

export function formatConformanceJunit(view: JunitView): string {
  const suites = view.results.map((result, i) => suite(view, result, i));
  if (view.mutation) suites.push(mutationSuite(view, view.mutation, suites.length));
  const total = (key: 'tests' | 'failures' | 'skipped') => suites.reduce((sum, s) => sum + s.counts[key], 0);
  const time = (view.durationsSeconds ?? []).reduce((sum, s) => sum + s, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="beanlab conform" tests="${total('tests')}" failures="${total('failures')}" errors="0" skipped="${total('skipped')}" time="${seconds(time)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

interface Suite {
  xml: string;
  counts: { tests: number; failures: number; skipped: number };
}

function suite(view: JunitView, result: ConformanceResultView, index: number): Suite {
  const properties: Array<[string, string]> = [
    ['target', result.target],
    ['profile', result.profile],
  ];
  if (view.seed !== null) properties.push(['seed', String(view.seed)]);
  if (result.interrupted) properties.push(['interrupted', 'true']);
  const cases = result.checks.map((check) => {
    const open = `    <testcase classname="${attr(check.section)}" name="${attr(check.id)}" time="0">`;
    if (check.status === 'pass') return `    <testcase classname="${attr(check.section)}" name="${attr(check.id)}" time="0"/>`;
    if (check.status === 'skip') return `${open}\n      <skipped message="${attr(check.actual)}"/>\n    </testcase>`;
    // A check whose helper command the server lacks was not run: skipped, with what it needs.
    if (check.status === 'not-checked') return `${open}\n      <skipped message="${attr(`not checked: ${check.actual}`)}"/>\n    </testcase>`;
    const details = [`rule: ${check.rule}`, ...(check.notes ?? []).map((n) => `note: ${n}`), `expected: ${check.expected}`, `actual: ${check.actual}`];
    if (check.replay) details.push(`replay: ${check.replay}`);
    const message = `expected ${check.expected}; actual ${check.actual}`;
    return `${open}\n      <failure message="${attr(shorten(message))}" type="mismatch">${text(details.join('\n'))}</failure>\n    </testcase>`;
  });
  const counts = { tests: result.checks.length, failures: result.failed, skipped: result.skipped + (result.notChecked ?? 0) };
  return {
    counts,
    xml: suiteXml(view, index, `${result.target} (profile ${result.profile})`, view.durationsSeconds?.[index] ?? 0, properties, cases, counts),
  };
}

function mutationSuite(view: JunitView, mutation: NonNullable<JunitView['mutation']>, index: number): Suite {
  const cases = mutation.faults.map((fault) => {
    const open = `    <testcase classname="mutation" name="${attr(fault.name)}" time="0">`;
    if (fault.caught) return `${open}\n      <system-out>${text(`caught by ${fault.failing.join(', ')}`)}</system-out>\n    </testcase>`;
    const message = `no check caught the fault ${fault.name}: ${fault.description}`;
    return `${open}\n      <failure message="${attr(shorten(message))}" type="fault-not-caught">${text(message)}</failure>\n    </testcase>`;
  });
  const counts = { tests: mutation.faults.length, failures: mutation.faults.filter((f) => !f.caught).length, skipped: 0 };
  const properties: Array<[string, string]> = view.seed === null ? [] : [['seed', String(view.seed)]];
  return { counts, xml: suiteXml(view, index, 'mutation score: embedded server with each fault', 0, properties, cases, counts) };
}

function suiteXml(
  view: JunitView,
  index: number,
  name: string,
  timeSeconds: number,
  properties: ReadonlyArray<[string, string]>,
  cases: readonly string[],
  counts: Suite['counts'],
): string {
  const timestamp = view.startedAt.toISOString().slice(0, 19);
  return [
    `  <testsuite name="${attr(name)}" tests="${counts.tests}" failures="${counts.failures}" errors="0" skipped="${counts.skipped}" ` +
      `time="${seconds(timeSeconds)}" timestamp="${timestamp}" hostname="${attr(view.hostname)}" id="${index}" package="beanlab.conform">`,
    '    <properties>',
    ...properties.map(([key, value]) => `      <property name="${attr(key)}" value="${attr(value)}"/>`),
    '    </properties>',
    ...cases,
    '    <system-out/>',
    '    <system-err/>',
    '  </testsuite>',
  ].join('\n');
}

function seconds(value: number): string {
  return value.toFixed(3);
}

function shorten(message: string): string {
  return message.length > MESSAGE_CHARS ? `${message.slice(0, MESSAGE_CHARS - 1)}…` : message;
}

/**
 * Characters XML 1.0 cannot hold at all (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/F)
 * are written as `\xNN` / `\uNNNN`, the escapes the rest of the report uses for raw bytes.
 */
function xmlSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function text(value: string): string {
  return xmlSafe(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  // Line breaks and tabs in attributes would be normalised to spaces by the reader: keep them.
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
