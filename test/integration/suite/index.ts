/** Entry loaded by the extension host: runs the mocha suites in this folder. */
import Mocha from 'mocha';

export async function run(): Promise<void> {
  // PMEM_TEST_GREP runs only the tests whose titles match it.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', grep: process.env.PMEM_TEST_GREP || undefined });
  // The suites are bundled into this file; mocha's globals must exist before they load.
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  await import('./extension.test');
  await import('./commands.test');
  await import('./exportTargets.test');
  await import('./superblock.test');
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
