// Builds the benchmark's peers: the PMDK program (installing libpmemobj-dev
// with apt when its header is missing) and /usr/bin/time (package `time`).
// Never fails: prints one JSON line saying what is usable and, if not, why,
// so that the benchmark still runs without a peer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const OUT = `${here}out`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { ok: r.status === 0, output: r.error ? String(r.error.message) : output };
}

/** Last non-empty line of a command's output: what a table cell can say. */
const lastLine = (text) => text.split('\n').filter((l) => l.trim()).pop() ?? '';

/** Installs an apt package unless `present()` already holds; a stale package list gets one `apt-get update`. */
function ensurePackage(pkg, present) {
  if (present()) return { ok: true };
  let r = run('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
  if (!r.ok) {
    run('apt-get', ['update']);
    r = run('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
  }
  if (r.ok && present()) return { ok: true };
  return { ok: false, reason: `apt-get install ${pkg} failed: ${lastLine(r.output) || 'no output'}` };
}

export function buildPmdkPeer() {
  const header = ['/usr/include/libpmemobj.h', '/usr/local/include/libpmemobj.h'];
  const pkg = ensurePackage('libpmemobj-dev', () => header.some((h) => existsSync(h)));
  if (!pkg.ok) return pkg;
  const src = `${here}pmdk_allocfree.c`;
  const binary = `${OUT}/pmdk_allocfree`;
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(src).mtimeMs) return { ok: true, binary };
  mkdirSync(OUT, { recursive: true });
  const cc = run('cc', ['-O2', '-Wall', '-o', binary, src, '-lpmemobj']);
  if (!cc.ok) return { ok: false, reason: `cc failed: ${lastLine(cc.output)}` };
  return { ok: true, binary };
}

export function ensureTime() {
  const path = '/usr/bin/time';
  const r = ensurePackage('time', () => existsSync(path));
  return r.ok ? { ok: true, path } : r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify({ pmdk: buildPmdkPeer(), time: ensureTime() }));
}
