/** Status bar item for the active image: free/total frames, boot generation, saved or not. */
import * as vscode from 'vscode';
import { info } from '../engine';
import { ImageRegistry } from './imageRegistry';

export function createStatusBar(registry: ImageRegistry): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('pmemExplorer.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'PMem image';
  item.command = 'pmemExplorer.showInfo';
  const update = () => {
    const doc = registry.current;
    if (!doc?.session) {
      item.hide();
      return;
    }
    const i = info(doc.viewImage!, doc.totals); // the kept totals: no pass over the section table per change
    const step = doc.viewedStep !== undefined ? ` · step ${doc.viewedStep}` : '';
    item.text = `$(database) ${i.frames.free} free · ${i.frames.uninitialized} uninit · gen ${i.bootGeneration}${doc.session.isBooted ? '' : ' (off)'}${step}${doc.isDirty ? ' · unsaved' : ''}`;
    const machine = doc.session.isBooted ? 'running' : i.clean ? 'off, shut down cleanly' : 'off, crashed';
    item.tooltip = `PMem: ${i.frames.free} free, ${i.frames.allocated} allocated, ${i.frames.uninitialized} uninitialised, ${i.frames.reserved} reserved of ${i.totalFrames} frames\nBoot generation ${i.bootGeneration} (${machine}), profile ${i.profile}\nClick for details`;
    item.show();
  };
  const sub = registry.onDidChange(update);
  update();
  return vscode.Disposable.from(item, sub);
}
