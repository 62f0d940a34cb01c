// Cross-checks the TraceQL conformance cases (../*.test) against @grafana/lezer-traceql, the
// grammar Grafana's query editor uses. Every `query` and `unsupported` case must parse without
// an error node, every `error` case must produce one; a disagreement must be listed, with its
// reason, in differences.txt. Exits 1 on an unlisted difference or a stale entry in the list.
//
// differences.txt: one line per query, tab-separated: query, lezer's verdict, ours, reason
// (verdicts are `valid` or `invalid`); `#` lines and blank lines are ignored.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@grafana/lezer-traceql';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = join(here, '..');

// Reads the cases of one .test file: [{file, line, kind, query}].
function readCases(file) {
  const lines = readFileSync(join(casesDir, file), 'utf8').split('\n');
  const cases = [];
  for (let i = 0; i < lines.length; i++) {
    const kind = lines[i].trim();
    if (kind === 'query' || kind === 'error' || kind === 'unsupported') {
      if (i + 1 >= lines.length) throw new Error(`${file}:${i + 1}: ${kind} without a query line`);
      cases.push({ file, line: i + 2, kind, query: lines[i + 1] });
      i++;
    }
  }
  return cases;
}

// True when lezer's tree for `query` has no error node.
function lezerAccepts(query) {
  const tree = parser.parse(query);
  let ok = true;
  tree.iterate({
    enter(node) {
      if (node.type.isError) ok = false;
      return ok;
    },
  });
  return ok;
}

function readDifferences() {
  const listed = new Map();
  const text = readFileSync(join(here, 'differences.txt'), 'utf8');
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const parts = raw.split('\t');
    if (parts.length !== 4 || !['valid', 'invalid'].includes(parts[1]) ||
        !['valid', 'invalid'].includes(parts[2]) || parts[3].trim() === '') {
      throw new Error(`differences.txt:${i + 1}: want query<TAB>lezer<TAB>ours<TAB>reason`);
    }
    listed.set(parts[0], { lezer: parts[1], ours: parts[2], reason: parts[3], line: i + 1 });
  });
  return listed;
}

const files = readdirSync(casesDir).filter((f) => f.endsWith('.test')).sort();
const cases = files.flatMap(readCases);
const listed = readDifferences();
const seen = new Set();
let agreements = 0;
let listedDiffs = 0;
const failures = [];
for (const c of cases) {
  const ours = c.kind === 'error' ? 'invalid' : 'valid';
  const lezer = lezerAccepts(c.query) ? 'valid' : 'invalid';
  const entry = listed.get(c.query);
  if (entry) seen.add(c.query);
  if (lezer === ours) {
    agreements++;
    if (entry) failures.push(`${c.file}:${c.line}: listed in differences.txt:${entry.line} but lezer agrees (${ours}): ${c.query}`);
  } else if (entry && entry.lezer === lezer && entry.ours === ours) {
    listedDiffs++;
  } else {
    failures.push(`${c.file}:${c.line}: lezer says ${lezer}, the case says ${ours}, not listed: ${c.query}`);
  }
}
for (const [query, entry] of listed) {
  if (!seen.has(query)) failures.push(`differences.txt:${entry.line}: no case has this query: ${query}`);
}
for (const f of failures) console.log(f);
console.log(`traceql-grammar: ${cases.length} cases checked in ${files.length} files, ` +
            `${agreements} agreements, ${listedDiffs} listed differences, ${failures.length} failures`);
// The closing line CI reads: a case passes when lezer agrees or the difference is listed.
const failedCases = cases.length - agreements - listedDiffs;
console.log(`lezer: ${agreements + listedDiffs} passed, ${failedCases} failed`);
process.exit(failures.length ? 1 : 0);
