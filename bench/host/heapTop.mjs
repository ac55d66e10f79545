// Where the memory still alive after a piece of work was allocated, from a
// sampling heap profile taken by the host bench (--profile): self and
// inclusive bytes per function.
//   node bench/host/heapTop.mjs FILE.heapprofile [--top N]
import fs from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/host/heapTop.mjs FILE.heapprofile [--top N]');
  process.exit(2);
}
const top = rest[0] === '--top' ? Number(rest[1]) : 25;
const { head } = JSON.parse(fs.readFileSync(file, 'utf8'));
const name = (n) => {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};
const self = new Map();
const incl = new Map();
let total = 0;
const walk = (n, stack) => {
  const bytes = n.selfSize;
  const k = name(n);
  total += bytes;
  self.set(k, (self.get(k) ?? 0) + bytes);
  const here = new Set(stack).add(k);
  for (const s of here) incl.set(s, (incl.get(s) ?? 0) + bytes);
  for (const c of n.children ?? []) walk(c, here);
};
walk(head, new Set());
const mib = (b) => (b / 2 ** 20).toFixed(1).padStart(7);
console.log(`${file}: ${mib(total)} MiB sampled alive`);
console.log('self:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${mib(v)} MiB  ${k}`);
console.log("inclusive (the project's code):");
for (const [k, v] of [...incl].filter(([k]) => /\/(dist|src)\//.test(k) || /dist\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${mib(v)} MiB  ${k}`);
