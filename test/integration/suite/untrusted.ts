/** Entry for the suite that runs in an untrusted workspace (node test/integration/runTest.mjs --untrusted). */
import { runMocha } from './runMocha';

export function run(): Promise<void> {
  return runMocha(() => import('./untrusted.test'));
}
