// npm start: build, make a demo image with some history, and open it in VS Code with the extension loaded:
// the local `code` binary when there is one, otherwise an embedded code-server whose address is printed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, remoteUri, startCodeServer, workbenchUrl } from './code-server-host.mjs';

const demoDir = path.join(REPO_ROOT, '.cache', 'demo');
const image = path.join(demoDir, 'demo.pmem');
const cli = (...args) => execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args], { stdio: 'pipe' });

execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
fs.mkdirSync(demoDir, { recursive: true });
if (!fs.existsSync(image)) {
  cli('create', image, '--size', '256M', '--nodes', '2');
  for (const [order, owner] of [[3, 'ext4'], [0, 'slab'], [5, 'dax'], [1, 'journal'], [9, 'hugepage']]) cli('alloc', image, '--order', String(order), '--owner', owner);
  cli('reboot', image, '--profile', 'kmemcheck');
  cli('alloc', image, '--order', '2', '--count', '3', '--owner', 'after-reboot');
  cli('reboot', image, '--crash-after', '1', '--during', 'alloc --order 4');
  console.log(`created ${image} with some history`);
}

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
  spawn('code', [`--extensionDevelopmentPath=${REPO_ROOT}`, demoDir, image], { stdio: 'inherit', detached: true }).unref();
  console.log('opened VS Code with the extension loaded');
} else {
  // The demo folder is this script's own: no trust prompt. The image is not opened from the
  // address: the workbench would open it before it knows the extension's editor, as text.
  const server = await startCodeServer({ folder: demoDir, port: Number(process.env.PORT) || 8080, workspaceTrust: false });
  const url = workbenchUrl(server.url, { folder: demoDir, payload: [['extensionDevelopmentPath', remoteUri(REPO_ROOT)]] });
  console.log(`\nPMem Explorer is running in code-server. Open this address in a browser,\nthen demo.pmem in the Explorer:\n\n  ${url}\n\nPress Ctrl-C to stop.`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}
