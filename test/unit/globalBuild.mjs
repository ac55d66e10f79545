// Builds the CLI once, before the suites start (in parallel mode, before any worker does): the CLI tests run dist/cli.js.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function mochaGlobalSetup() {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'pipe' });
}
