// The small YAML dialect of beanstalkd's stats and list replies, read and written as text.
// A generic YAML parser is wrong here: 1.12 sends `os: #1 SMP …` bare, which YAML reads as a
// comment (null), and a tube named `123` or an all-digit instance id would become numbers.
// So every value stays the string the server sent; 1.13's double quotes are removed.

/** `---\n` then `key: value\n` lines (the OK body without its final CR LF) → key → value. */
export function parseStatsYaml(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of documentLines(text)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a stats line: ${JSON.stringify(line)}`);
    // Keys never hold a colon; values may (an os version string can), so split at the first.
    const value = line.slice(colon + 1).replace(/^ /, '');
    fields.set(line.slice(0, colon), unquote(value));
  }
  return fields;
}

/** `---\n` then `- name\n` lines (list-tubes, list-tubes-watched) → the names in order. */
export function parseYamlList(text: string): string[] {
  return documentLines(text).map((line) => {
    if (!line.startsWith('- ')) throw new Error(`not a list line: ${JSON.stringify(line)}`);
    return unquote(line.slice(2));
  });
}

/**
 * The stats body beanstalkd formats: `---\n` and one `key: value\n` per field, in the given
 * order; `quoted` wraps the value in double quotes as 1.13 does for names and uname strings.
 */
export function formatStatsYaml(
  fields: ReadonlyArray<readonly [key: string, value: string | number | boolean, quoted?: boolean]>,
): string {
  let out = '---\n';
  for (const [key, value, quoted] of fields) {
    out += quoted ? `${key}: "${value}"\n` : `${key}: ${value}\n`;
  }
  return out;
}

/** The document's lines after the `---` marker, without blank lines or a stray trailing CR LF. */
function documentLines(text: string): string[] {
  const lines = text.split('\n');
  const first = lines[0].replace(/\r$/, '');
  if (first !== '---') throw new Error(`YAML document does not start with ---: ${JSON.stringify(text.slice(0, 40))}`);
  return lines
    .slice(1)
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0);
}

/** beanstalkd's quoted values never contain a quote or backslash, so no unescaping is needed. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
