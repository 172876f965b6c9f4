/**
 * Where the bytes of a heap grew: `node dist/bench/heap-diff.js before.heapsnapshot after.heapsnapshot [n]`
 * prints the constructors (object nodes by constructor name, others by node type) whose
 * count and self size grew most between two V8 heap snapshots, per connection when `n`
 * (the connections opened between them) is given. For bench:connections' BENCH_HEAP_SNAPSHOT.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

type Totals = Map<string, { count: number; size: number }>;

function totals(file: string): Totals {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = s.snapshot.meta.node_types[0];
  const out: Totals = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]];
    const name = s.strings[s.nodes[i + nameAt]];
    const key = type === 'object' || type === 'closure' ? `${type === 'closure' ? 'closure ' : ''}${name}` : `(${type})`;
    const t = out.get(key) ?? { count: 0, size: 0 };
    t.count++;
    t.size += s.nodes[i + sizeAt];
    out.set(key, t);
  }
  return out;
}

const [before, after, n] = process.argv.slice(2);
const a = totals(before);
const b = totals(after);
const per = Number(n ?? 1);
const rows = [...b.entries()].map(([key, t]) => {
  const o = a.get(key) ?? { count: 0, size: 0 };
  return { key, count: (t.count - o.count) / per, size: (t.size - o.size) / per };
});
rows.sort((x, y) => y.size - x.size);
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(`self size grown${per > 1 ? ` per connection (n = ${per})` : ''}: ${total.toFixed(0)} bytes`);
console.log(`${'bytes'.padStart(10)}${'count'.padStart(10)}  constructor`);
for (const r of rows.slice(0, 50)) console.log(`${r.size.toFixed(0).padStart(10)}${r.count.toFixed(2).padStart(10)}  ${r.key.slice(0, 100)}`);
