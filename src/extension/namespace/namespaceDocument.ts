/**
 * A Linux namespace opened read-only: a read-only file descriptor, the info
 * block's report and where the struct pages are. Only the ranges asked for
 * are read, so a namespace of any size opens at once; nothing is ever written.
 */
import * as vscode from 'vscode';
import { describeNamespace, DETECT_BYTES, type NamespaceReport } from '../../engine/format/linux/namespace';
import { LINUX_6_1_X86_64 } from '../../engine/format/linux/kernelStructPage';
import { anchorOf, namespaceMemmap, type DecodeContext, type NamespaceMemmap } from '../../engine/format/linux/structPage';
import { FileStore } from '../../engine/node/fileStore';
import { isPfn } from './namespaceView';

export class NamespaceDocument implements vscode.CustomDocument {
  private constructor(
    readonly uri: vscode.Uri,
    private readonly store: FileStore,
    readonly report: NamespaceReport,
    /** The struct pages in the file, or why there are none (undefined for sector, raw and other files). */
    readonly memmap: NamespaceMemmap | { none: string } | undefined,
    readonly decode: DecodeContext,
  ) {}

  static open(uri: vscode.Uri): NamespaceDocument {
    const store = FileStore.open(uri.fsPath, { readOnly: true });
    try {
      const report = describeNamespace(store.read(0, Math.min(store.size, DETECT_BYTES)), store.size);
      const pfn = isPfn(report) ? report : undefined;
      const memmap = pfn && namespaceMemmap(pfn);
      const read = (offset: number, length: number) => store.read(offset, length);
      // The anchor (physical pfns) comes from the kernel's own list heads in the first struct pages.
      const anchor = memmap && !('none' in memmap) ? anchorOf(read, memmap) : undefined;
      return new NamespaceDocument(uri, store, report, memmap, { kernel: LINUX_6_1_X86_64, anchor });
    } catch (e) {
      store.close();
      throw e;
    }
  }

  get size(): number {
    return this.store.size;
  }

  /** Bytes [offset, offset + length) of the file, cut to its end. */
  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.store.size, offset + length);
    return this.store.read(offset, Math.max(0, end - offset));
  }

  dispose(): void {
    this.store.close();
  }
}
