/**
 * Maps in step: image editors whose maps move together (zoom, pan, fit) and
 * select the same frame, so two images (the designs of a comparison, an image
 * before and after) can be read side by side, frame against frame. Images
 * join by path; a map of an image in step follows the others from the moment
 * it opens.
 */
import * as vscode from 'vscode';
import type { ImageRegistry } from './imageRegistry';
import { MapHost } from './mapHost';
import type { PmemDocument } from './pmemDocument';

export class MapsInStep implements vscode.Disposable {
  /** The images in step, by path (uri.toString()). */
  private readonly images = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Documents whose selections are already watched. */
  private readonly watched = new WeakSet<PmemDocument>();

  constructor(private readonly registry: ImageRegistry) {
    this.subscriptions.push(registry.onDidOpenMap((map) => this.watch(map)));
    registry.allMaps.forEach((map) => this.watch(map));
  }

  /** The images in step now. */
  get uris(): string[] {
    return [...this.images];
  }

  isInStep(doc: PmemDocument): boolean {
    return this.images.has(doc.uri.toString());
  }

  /** Puts these images in step with each other (and with any already in step). */
  join(uris: readonly vscode.Uri[]): void {
    for (const u of uris) this.images.add(u.toString());
    this.told();
  }

  /** Takes every image out of step. */
  clear(): void {
    this.images.clear();
    this.told();
  }

  private told(): void {
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.mapsInStep', this.images.size > 0);
  }

  private watch(map: MapHost): void {
    this.subscriptions.push(map.onDidMove((move) => {
      if (!this.isInStep(map.document)) return;
      for (const other of this.registry.allMaps) if (other !== map && this.isInStep(other.document)) other.follow(move);
    }));
    const doc = map.document;
    if (this.watched.has(doc)) return;
    this.watched.add(doc);
    this.subscriptions.push(doc.onDidChangeSelection((c) => {
      // Only a frame chosen on a map is shared: one shared here (origin: this) is not passed on again.
      if (!(c.origin instanceof MapHost) || !this.isInStep(doc)) return;
      for (const other of new Set(this.registry.allMaps.map((m) => m.document))) {
        if (other === doc || !this.isInStep(other) || !other.session || other.selection?.pfn === c.pfn) continue;
        if (c.pfn < other.session.image.geometry.totalFrames) other.select(c.pfn, 'map', { reveal: false, origin: this });
      }
    }));
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
