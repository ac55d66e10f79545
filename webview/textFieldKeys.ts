/**
 * Keys a text field keeps for itself. The webview's frame sends every
 * keydown that reaches its window to the workbench, which answers Ctrl+A with
 * a select-all sent back later (after the next keys have been typed, so they
 * replace the whole text) and Ctrl+Z / Ctrl+Y with an undo or redo of the
 * image. In a text field these keys belong to the field: they stop here, the
 * browser does what any text box does.
 */
const FIELD_KEYS = new Set(['a', 'z', 'y']);

function editsText(target: EventTarget | undefined): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || (target instanceof HTMLElement && target.isContentEditable);
}

export function keepTextFieldKeys(doc: Document): void {
  doc.addEventListener('keydown', (e) => {
    // composedPath()[0]: the <input> inside a vscode-textfield, not its host.
    if ((e.ctrlKey || e.metaKey) && !e.altKey && FIELD_KEYS.has(e.key.toLowerCase()) && editsText(e.composedPath()[0])) e.stopPropagation();
  });
}
