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
    const i = info(doc.viewImage!);
    const step = doc.viewedStep !== undefined ? ` · step ${doc.viewedStep}` : '';
    item.text = `$(database) ${i.frames.free}/${i.totalFrames} free · gen ${i.bootGeneration}${doc.session.isBooted ? '' : ' (off)'}${step}${doc.session.dirty ? ' · unsaved' : ''}`;
    item.tooltip = `PMem: ${i.frames.free} free, ${i.frames.allocated} allocated, ${i.frames.uninitialized} uninitialised of ${i.totalFrames} frames\nBoot generation ${i.bootGeneration}, ${i.clean ? 'clean' : 'running or crashed'}, profile ${i.profile}\nClick for details`;
    item.show();
  };
  const sub = registry.onDidChange(update);
  update();
  return vscode.Disposable.from(item, sub);
}
