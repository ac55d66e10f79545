// The extension host benchmark: runs bench/host/hostSuite.ts inside a real VS Code
// extension host (code-server, as the integration tests do) on a 1 TiB image with
// 100,000 history steps, and prints its figures (also kept under bench/results/).
//   node bench/host.bench.mjs [--steps N] [--profile DIR]
// --profile writes a CPU profile of each long work, taken in the host, to DIR
// (read them with: node bench/host/longTasks.mjs DIR/NAME.cpuprofile).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const stepsAt = argv.indexOf('--steps');
const steps = stepsAt >= 0 ? argv[stepsAt + 1] : argv.includes('--quick') ? '2000' : '100000';
const profileAt = argv.indexOf('--profile');
const profileDir = profileAt >= 0 ? path.resolve(argv[profileAt + 1]) : undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-host-bench-'));
const out = path.join(dir, 'figures.json');
try {
  const made = Date.now();
  const mk = spawnSync(process.execPath, ['dist/bench/hostImage.js', path.join(dir, 'tib.pmem'), steps], { cwd: root, stdio: 'inherit' });
  if (mk.status !== 0) process.exit(mk.status ?? 1);
  console.log(`host bench: made a 1 TiB image with ${Number(steps).toLocaleString('en-US')} steps in ${((Date.now() - made) / 1000).toFixed(1)} s`);
  const r = spawnSync(process.execPath, ['test/integration/runTest.mjs', '--tests', 'dist/bench/hostSuite.js', '--workspace', dir], {
    cwd: root, stdio: 'inherit',
    env: { ...process.env, PMEM_BENCH_OUT: out, PMEM_BENCH_DIR: dir, ...(profileDir ? { PMEM_HOST_PROFILE: profileDir } : {}), VSCODE_WEB_TIMEOUT: process.env.VSCODE_WEB_TIMEOUT ?? '1800' },
  });
  if (!fs.existsSync(out)) {
    console.error('host bench: the suite wrote no figures');
    process.exit(r.status || 1);
  }
  const { figures } = JSON.parse(fs.readFileSync(out, 'utf8'));
  console.log(`\nExtension host in code-server, 1 TiB image with ${Number(steps).toLocaleString('en-US')} history steps (load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
  console.log('| Measurement | Figure | Target | Holds |\n|---|---|---|---|');
  for (const f of figures) {
    const v = f.unit === 'MiB' ? `${f.value.toFixed(0)} MiB` : `${f.value.toFixed(1)} ms`;
    const bound = /<= ([\d.]+)/.exec(f.target ?? '');
    const holds = bound ? (f.value <= Number(bound[1]) ? 'yes' : 'no') : '—';
    console.log(`| ${f.name} | ${v}${f.note ? ` (${f.note})` : ''} | ${f.target ?? '—'} | ${holds} |`);
  }
  fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench', 'results', `host-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}.json`), JSON.stringify({ steps: Number(steps), loadavg: os.loadavg(), figures }, null, 2));
  if (r.status !== 0) process.exit(r.status ?? 1);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
