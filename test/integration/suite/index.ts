/** Entry loaded by the extension host: runs the mocha suites in this folder. */
import { runMocha } from './runMocha';

export function run(): Promise<void> {
  return runMocha(async () => {
    await import('./extension.test');
    await import('./commands.test');
    await import('./exportTargets.test');
    await import('./superblock.test');
    await import('./longWork.test');
    await import('./namespace.test');
    await import('./readOnlyDocs.test');
    await import('./replay.test');
    await import('./sectionsNav.test');
    await import('./workflow.test');
  });
}
