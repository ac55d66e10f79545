/** Runs mocha suites bundled into an extension-host entry, then removes the folders the tests made. */
import Mocha from 'mocha';
import { removeTempDirs } from './helpers';

export async function runMocha(loadSuites: () => Promise<unknown>): Promise<void> {
  // PMEM_TEST_GREP runs only the tests whose titles match it.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', grep: process.env.PMEM_TEST_GREP || undefined });
  // The suites are bundled into the entry; mocha's globals must exist before they load.
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  await loadSuites();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  await removeTempDirs();
  if (failures) throw new Error(`${failures} test(s) failed`);
}
