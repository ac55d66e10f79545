/**
 * The struct page the active Linux namespace editor inspects, for the
 * Descriptors view: set when an editor inspects a page or comes to the
 * front, cleared when no namespace editor is in front.
 */
import * as vscode from 'vscode';
import type { DecodedStructPage } from '../../engine/format/linux/structPage';

export interface InspectedPage {
  /** The namespace file's name, for the view's label. */
  file: string;
  page: DecodedStructPage & { area?: string };
}

export class InspectedStructPage implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private shown?: { owner: object; inspected: InspectedPage };

  /** What the Descriptors view shows instead of an image's frames, when a namespace editor is in front. */
  get current(): InspectedPage | undefined {
    return this.shown?.inspected;
  }

  /** `owner` (an editor panel) inspects a page while in front. */
  show(owner: object, inspected: InspectedPage): void {
    this.shown = { owner, inspected };
    this.emitter.fire();
  }

  /** `owner` left the front (or closed): the view goes back to the image, if `owner` is what it showed. */
  hide(owner: object): void {
    if (this.shown?.owner !== owner) return;
    this.shown = undefined;
    this.emitter.fire();
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
