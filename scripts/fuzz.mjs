// The long fuzz run: `npm run fuzz -- --seconds N --seed S [--only NAME]`.
// Runs every fuzz property of test/unit/fuzz for its share of N seconds (default
// 60), over a larger pool of base images than the bounded mocha run, and
// prints the cases run per property; on failure the seed, the path and the
// shrunk counterexample, which PMEM_FUZZ_SEED or fast-check's path replays.
import { parseArgs } from 'node:util';
import { PROPERTIES, runProperty } from '../test/unit/fuzz/run.ts';

const USAGE = `usage: npm run fuzz -- [--seconds N] [--seed S] [--only NAME] [--pool IMAGES]
  --seconds N     total time, shared by the properties run (default 60)
  --seed S        the run's seed, printed at the start and with any failure (default: random)
  --only NAME     only the properties whose name contains NAME
  --pool IMAGES   base images the mutations start from (default 24)
properties: ${PROPERTIES.map((p) => p.name).join(', ')}`;
let values;
try {
  ({ values } = parseArgs({ options: { seconds: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' }, pool: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (e) {
  console.error(`fuzz: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds ?? 60);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const pool = Number(values.pool ?? 24);
if (!(seconds > 0) || !Number.isSafeInteger(seed) || !Number.isSafeInteger(pool) || pool < 1) {
  console.error(`fuzz: --seconds must be above 0, --seed and --pool whole numbers (--pool at least 1)\n${USAGE}`);
  process.exit(2);
}
const chosen = PROPERTIES.filter((p) => !values.only || p.name.includes(values.only));
if (chosen.length === 0) {
  console.error(`no property matches "${values.only}"; properties: ${PROPERTIES.map((p) => p.name).join(', ')}`);
  process.exit(2);
}
console.log(`fuzz: seed ${seed}, ${seconds} s over ${chosen.length} properties, ${pool} base images`);
let failed = 0;
for (const p of chosen) {
  const started = Date.now();
  const r = runProperty(p, seed, { seconds: seconds / chosen.length, poolSize: pool });
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (r.failed) {
    failed++;
    console.log(`FAIL ${p.name}: ${r.runs} cases in ${took} s\n${r.report}`);
  } else console.log(`ok   ${p.name}: ${r.runs} cases in ${took} s`);
}
console.log(failed ? `${failed} propert${failed === 1 ? 'y' : 'ies'} failed (seed ${seed})` : `all properties held (seed ${seed})`);
process.exit(failed ? 1 : 0);
