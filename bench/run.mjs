// `npm run bench [-- --quick] [-- --runs N]`: builds the CLI and the benchmarks, then
// runs the engine's table against its peers, the map benchmarks and the incremental updates (about a minute), passing the options on.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const steps = [
  ['scripts/build.mjs', '--bench'],
  ['dist/bench/engine.bench.js', ...args],
  ['dist/bench/history.bench.js', ...args],
  ['dist/bench/map.bench.js', ...args],
  ['dist/bench/updates.bench.js', ...args],
  ['bench/mapDraw.bench.mjs', ...args],
  ['bench/host.bench.mjs', ...args],
];
for (const [script, ...rest] of steps) {
  const r = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
