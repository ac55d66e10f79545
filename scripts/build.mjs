// Bundles the CLI (and, when present, the extension and the webview) with esbuild.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', define: { PMEM_VERSION: JSON.stringify(pkg.version) } };

const builds = [
  { ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20' },
];
if (existsSync('src/extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
}
if (existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' });
}
if (existsSync('webview/compare/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/compare/main.ts'], outfile: 'dist/compare.js', platform: 'browser', format: 'iife', target: 'es2022' });
}
if (existsSync('webview/namespace/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/namespace/main.ts'], outfile: 'dist/namespace.js', platform: 'browser', format: 'iife', target: 'es2022' });
}
if (process.argv.includes('--tests')) {
  for (const [entry, out] of [['index', 'index'], ['untrusted', 'untrusted']]) {
    builds.push({ ...common, entryPoints: [`test/integration/suite/${entry}.ts`], outfile: `test/integration/out/${out}.js`, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'mocha'] });
  }
}
if (process.argv.includes('--bench')) {
  for (const name of ['engine', 'history', 'map', 'updates']) {
    builds.push({ ...common, entryPoints: [`bench/${name}.bench.ts`], outfile: `dist/bench/${name}.bench.js`, platform: 'node', format: 'cjs', target: 'node20' });
  }
  // Runs inside the extension host: VS Code's API is the host's own.
  builds.push({ ...common, entryPoints: ['bench/host/hostSuite.ts'], outfile: 'dist/bench/hostSuite.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
  builds.push({ ...common, entryPoints: ['bench/host/makeImage.ts'], outfile: 'dist/bench/hostImage.js', platform: 'node', format: 'cjs', target: 'node20' });
}
// Each output is written beside its place and renamed over it: a CLI or extension started while a build runs
// (a test suite spawning dist/cli.js) reads the old file or the new one, never a half-written one.
const results = await Promise.all(builds.map((b) => esbuild.build({ ...b, write: false })));
// What a build cut off before its renames left behind (a minute old: a build running beside this one keeps its own).
for (const dir of new Set(builds.map((b) => dirname(b.outfile)))) {
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (/\.\d+\.tmp$/.test(name) && Date.now() - statSync(file).mtimeMs > 60_000) rmSync(file, { force: true });
  }
}
for (const file of results.flatMap((r) => r.outputFiles)) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
console.log(`built ${builds.map((b) => b.outfile).join(', ')}`);
