// The page `beanlab start` writes at reports/latest/index.html: one line per part, linking
// each part's own report. A pure function of its input, like every formatter here.
export interface StartPart {
  title: string;
  /** Relative to index.html. */
  href: string;
  pass: boolean;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function startIndexHtml(parts: readonly StartPart[]): string {
  const rows = parts
    .map(
      (p) =>
        `<tr><td class="${p.pass ? 'pass' : 'fail'}">${p.pass ? 'PASS' : 'FAIL'}</td>` +
        `<td><a href="${escapeHtml(p.href)}">${escapeHtml(p.title)}</a></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>beanlab: latest run</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 50rem; }
td { padding: .3rem .8rem; } .pass { color: #17702a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
</style></head>
<body><h1>beanlab: latest run</h1>
<table>
${rows}
</table>
</body></html>
`;
}
