/** Export Map: the map's current view as PNG or SVG, written atomically to a file the user chose. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomically } from '../../engine/node/atomicFile';
import { exportRefusal } from '../exportTarget';
import { VIEW_TYPE } from '../pmemEditorProvider';
import { Refusal } from '../refusal';
import { svgRefusal } from '../../shared/protocol';
import { CommandContext, presetOf } from './context';

/** The files of every image open in a PMem editor (any group). */
function openImageFiles(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputCustom && t.input.viewType === VIEW_TYPE ? [t.input.uri.fsPath] : []));
}

export function registerExportCommands(c: CommandContext): void {
  c.run('pmemExplorer.exportMap', async (arg?: unknown) => {
    const doc = c.registry.require();
    const map = c.registry.activeMap;
    if (!map) throw new Refusal('Open the image in the PMem editor to export its map.');
    const p = presetOf(arg, 'Export Map');
    if (p.format !== undefined && p.format !== 'png' && p.format !== 'svg') throw new Refusal('Export Map: "format" must be "png" or "svg"');
    if (p.target !== undefined && typeof p.target !== 'string') throw new Refusal('Export Map: "target" must be a file path');
    if (p.overwrite !== undefined && typeof p.overwrite !== 'boolean') throw new Refusal('Export Map: "overwrite" must be true or false');
    if (p.legend !== undefined && typeof p.legend !== 'boolean') throw new Refusal('Export Map: "legend" must be true or false');
    // Refused before the file name is asked for: the view shown now is the one exported.
    const svgTooLarge = svgRefusal(map.viewCells ?? 0);
    const format = (p.format as 'png' | 'svg' | undefined) ?? (await vscode.window.showQuickPick(
      [{ label: 'png', description: 'PNG image of the current view' }, { label: 'svg', description: svgTooLarge ? `not for this view: ${map.viewCells} cells, SVG takes at most 65 536 (zoom in)` : 'SVG drawing of the current view (small views only)' }],
      { ignoreFocusOut: true, title: 'Export Map', placeHolder: 'Format' },
    ))?.label as 'png' | 'svg' | undefined;
    if (!format) return;
    if (format === 'svg' && svgTooLarge) throw new Refusal(`Export Map: ${svgTooLarge}`);
    const base = doc.uri.fsPath.replace(/\.pmem$/i, '');
    // The save dialog asks before replacing a file; a target given as an argument replaces one only with overwrite: true.
    const target = typeof p.target === 'string' ? p.target : (await vscode.window.showSaveDialog({ title: 'Export Map', defaultUri: vscode.Uri.file(`${base}-map.${format}`), filters: { [format.toUpperCase()]: [format] } }))?.fsPath;
    if (!target) return;
    const refusal = exportRefusal(target, { argument: typeof p.target === 'string', overwrite: p.overwrite === true, images: openImageFiles() });
    if (refusal) throw new Refusal(`Export Map: ${refusal}`);
    const legend = typeof p.legend === 'boolean' ? p.legend : vscode.workspace.getConfiguration('pmemExplorer.map').get<boolean>('exportLegend', true);
    const data = await map.renderExport(format, legend);
    writeFileAtomically(target, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    void vscode.window.setStatusBarMessage(`$(check) Map exported to ${path.basename(target)}`, 5000);
    return target;
  });
}
