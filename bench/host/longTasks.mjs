// What the extension host ran in its longest tasks, from a CPU profile taken
// by the host bench (--profile): a task is a stretch the bench's timer found
// the loop held (or, in a profile without them, a run of samples with no idle
// sample between them); for each of the longest, the functions that took its
// time (self time, and inclusive time of the project's own functions).
//   node bench/host/longTasks.mjs FILE.cpuprofile [--top N]
import fs from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/host/longTasks.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = rest[0] === '--top' ? Number(rest[1]) : 5;
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};
const idle = (id) => byId.get(id).callFrame.functionName === '(idle)';

// Busy runs: consecutive non-idle samples, with their wall time from the time deltas.
const tasks = [];
let current;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (idle(id)) {
    current = undefined;
    return;
  }
  if (!current) tasks.push((current = { start: at, end: at, samples: [] }));
  current.end = at;
  current.samples.push({ id, dt: profile.timeDeltas[i + 1] ?? 0 });
});
for (const t of tasks) t.ms = (t.end - t.start) / 1000 + (t.samples.at(-1)?.dt ?? 0) / 1000;
// A profile of the host bench also holds the stretches its timer measured (the loop held, from one turn to the next):
// those are the tasks, where busy runs may join several.
const measured = (profile.pmemStretches ?? []).map(([start, end]) => {
  const samples = [];
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t >= start && t <= end && !idle(id)) samples.push({ id, dt: profile.timeDeltas[i + 1] ?? 0 });
  });
  return { start, end, samples, ms: (end - start) / 1000 };
});
const shown = measured.length ? measured : tasks;
shown.sort((a, b) => b.ms - a.ms);
const totalMs = (profile.endTime - profile.startTime) / 1000;
console.log(`${file}: ${totalMs.toFixed(0)} ms profiled, ${measured.length ? `${measured.length} stretches the loop was held 20 ms or more (the bench's timer)` : `${tasks.length} busy runs`}; the ${Math.min(top, shown.length)} longest:`);
for (const t of shown.slice(0, top)) {
  const self = new Map();
  const incl = new Map();
  for (const { id, dt } of t.samples) {
    const k = name(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const n = byId.get(x);
      const key = name(n);
      if (seen.has(key) || !/\/(dist|src)\//.test(n.callFrame.url)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  const list = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, us]) => `    ${(us / 1000).toFixed(1).padStart(7)} ms  ${f}`).join('\n');
  console.log(`\n  task of ${t.ms.toFixed(1)} ms at +${((t.start - profile.startTime) / 1000).toFixed(0)} ms\n  self:\n${list(self, 8)}\n  inclusive (the project's code):\n${list(incl, 12)}`);
}
