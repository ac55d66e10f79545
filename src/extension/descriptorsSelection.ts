/**
 * The Descriptors view and the active document's selected frame: a frame
 * chosen in the view becomes the document's selection, and the view shows
 * the document's selection when a change asks for it (a click or Enter on
 * the map, Go to Frame, Allocate). The document is the only owner: the view
 * is brought back to it whenever the two disagree after a reveal.
 */
import * as vscode from 'vscode';
import type { ImageRegistry } from './imageRegistry';
import type { SelectionChange } from './pmemDocument';
import type { DescriptorNode } from './trees/descriptorsTree';

/** Reveals tried before the view is left as it is (about 8 s of waiting in all). */
const REVEAL_ATTEMPTS = 10;

export class DescriptorsSelection implements vscode.Disposable {
  /** The last change the view should show; undefined when it need show nothing. */
  private target?: SelectionChange;
  /** The frame being revealed now: VS Code reports the selection a reveal makes before the reveal settles. */
  private revealing?: number;
  private running?: Promise<void>;
  /** The last change revealed (or found shown already): each change is revealed once. */
  private done?: SelectionChange;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly registry: ImageRegistry,
    private readonly view: vscode.TreeView<DescriptorNode>,
    private readonly log: (message: string) => void,
    /** The view's own node for a frame (the tree keeps one per frame). */
    private readonly frameNode: (pfn: number) => DescriptorNode = (pfn) => ({ kind: 'frame', pfn }),
  ) {
    this.subscriptions.push(
      view.onDidChangeSelection((e) => this.chosenInView(e.selection[0])),
      registry.onDidChangeSelection((c) => {
        if (c.source === 'descriptors') this.target = c; // the view shows it, unless a reveal running now lands after it
        else if (c.reveal) {
          this.target = c;
          void this.follow();
        }
      }),
      registry.onDidChange(() => {
        if (this.target && this.registry.current?.selection !== this.target) this.target = undefined; // another image
      }),
    );
  }

  private chosenInView(node: DescriptorNode | undefined): void {
    if (node?.kind !== 'frame' || node.pfn === this.revealing) return; // not a frame, or the reveal's own doing
    const doc = this.registry.current;
    if (!doc?.session || doc.selection?.pfn === node.pfn) return;
    doc.select(node.pfn, 'descriptors');
  }

  private shown(): number | undefined {
    const node = this.view.selection[0];
    return node?.kind === 'frame' ? node.pfn : undefined;
  }

  /** Reveals the target, one reveal at a time, until the view shows the last one (reveals in parallel could land in any order). */
  private follow(): Promise<void> {
    return (this.running ??= this.revealTargets().finally(() => (this.running = undefined)));
  }

  /** Settles when the view has caught up with the document (no reveal is running). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async revealTargets(): Promise<void> {
    for (let t = this.target; t && t !== this.done; t = this.target) {
      this.done = t;
      // A change from elsewhere is revealed (scrolled to) even when its row is selected already;
      // a row chosen in the view only when a reveal that landed after it took its place.
      // VS Code drops a reveal that meets a refresh or another reveal without a word (a busy machine
      // makes that common while long work's updates arrive): try again, waiting longer each time.
      for (let attempt = 0; attempt < REVEAL_ATTEMPTS && this.target === t && ((attempt === 0 && t.source !== 'descriptors') || this.shown() !== t.pfn); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** Math.min(attempt, 6)));
        if (this.target !== t || this.registry.current?.selection !== t) break; // moved on meanwhile, or another image
        this.revealing = t.pfn;
        try {
          await this.view.reveal(this.frameNode(t.pfn), { select: true, focus: !!t.focusTree, expand: true });
        } catch (e) {
          this.log(`the Descriptors view could not show pfn ${t.pfn} (attempt ${attempt + 1}): ${(e as Error).message}`);
        } finally {
          this.revealing = undefined;
        }
      }
    }
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
