/** The editor's HTML bodies: the image summary, and the error view for an image that failed validation. */
import { formatBytes, ImageError, info } from '../engine';
import type { ImageSession } from '../engine/session';
import { escapeHtml } from './webviewHtml';

export function errorBody(fileName: string, error: Error): string {
  const loc = error instanceof ImageError ? error.location : {};
  const where = [loc.field, loc.offset !== undefined ? `byte ${loc.offset} (0x${loc.offset.toString(16)})` : '', loc.section !== undefined ? `section ${loc.section}` : '', loc.pfn !== undefined ? `pfn ${loc.pfn}` : '']
    .filter(Boolean).join(', ');
  const message = error instanceof ImageError ? error.reason : error.message;
  return `<h1>${escapeHtml(fileName)} cannot be opened as a pmem image</h1>
<div class="error" role="alert"><p>${escapeHtml(message)}</p>${where ? `<p class="where">at ${escapeHtml(where)}</p>` : ''}</div>
<p class="note">Nothing was written to the file. You can inspect its bytes with another editor.</p>
<p><button data-message="reopenWith">Reopen With…</button></p>`;
}

export function summaryBody(fileName: string, session: ImageSession, readOnlyReason?: string, step?: number): string {
  const i = info(step === undefined ? session.image : session.viewAt(step));
  const pct = (n: number) => `${((n / i.totalFrames) * 100).toFixed(2)} %`;
  const row = (k: string, v: string) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`;
  return `<h1>${escapeHtml(fileName)}</h1>
${readOnlyReason ? `<p class="note" role="status">Read-only: ${escapeHtml(readOnlyReason)}.</p>` : ''}
${step !== undefined ? `<p class="note" role="status">Showing the state after history step ${step} (read-only). PMem: Step Forward or Go to Step returns to the present.</p>` : ''}
<table aria-label="Image summary">
${row('Size', `${formatBytes(i.sizeBytes)} (${i.totalFrames} frames of 4 KiB)`)}
${row('Memmap', i.memmap.placement === 'device' ? `on the device: ${formatBytes(i.memmap.bytes)}, ${i.memmapPercent.toFixed(4)} %` : `in RAM: ${formatBytes(i.memmap.ramBytes)}, rebuilt at every boot`)}
${row('Overhead', `${i.overheadPercent.toFixed(4)} % of frames`)}
${row('Free lists', `links in the ${i.links === 'page' ? 'free pages' : 'descriptors'}, max order ${i.maxOrder}`)}
${row('Machine', session.isBooted ? `running: boot generation ${i.bootGeneration}, profile ${i.profile}` : `off (last boot: generation ${i.bootGeneration}, ${i.clean ? 'clean shutdown' : 'crashed'}); the first operation boots it`)}
${row('Frames', `${i.frames.free} free (${pct(i.frames.free)}), ${i.frames.allocated} allocated (${pct(i.frames.allocated)}), ${i.frames.uninitialized} uninitialised (${pct(i.frames.uninitialized)}), ${i.frames.reserved} reserved (${pct(i.frames.reserved)})`)}
${row('Sections', `${i.sections.count} × ${formatBytes(i.sections.sizeBytes)}: ${i.sections.untouched} never initialised, ${i.sections.initialized} initialised, ${i.sections.stale} stale`)}
${row('History', `steps ${i.history.firstStep} to ${i.history.lastStep}`)}
</table>`;
}
