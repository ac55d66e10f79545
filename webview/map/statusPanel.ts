/**
 * The text around the map: the summary line, the banner (read-only, a past
 * step, a notice about a boot), which toolbar buttons work, the timeline and
 * its steps, the long-work bar, and the costs panel.
 */
import { formatBytes } from '../../src/engine/core/units';
import type { MapWork } from '../../src/shared/protocol';
import { renderCosts } from '../costsPanel';
import { StepList } from '../timeline';
import { requests } from './hostRequests';
import { renderLegend } from './legendPanel';
import { $, canvas, post, summary, view } from './model';

/** The history's steps, listed beside the timeline (fetched as they scroll into view). */
export const steps = new StepList(
  $<HTMLOListElement>('steps'),
  (step) => post({ type: 'goToStep', step }),
  (from, to) => requests.request('steps', { from, to }),
  () => describeStep(),
);

export function renderState(): void {
  if (!view.state) return;
  const s = view.state;
  const t = s.frames;
  const total = s.image.totalFrames;
  const pct = (n: number) => `${((n / total) * 100).toFixed(1)} %`;
  summary.offer(`${formatBytes(total * 4096)} · ${total} frames: ${t.free} free (${pct(t.free)}${t.uninitialized ? `; ${t.free + t.uninitialized} can be handed out, uninitialised sections included` : ''}), ${t.allocated} allocated (${pct(t.allocated)}), ${t.uninitialized} uninitialised, ${t.reserved} metadata · sections: ${s.sections.initialized} initialised, ${s.sections.stale} stale, ${s.sections.never} never · boot ${s.bootGeneration} (${s.machine === 'running' ? 'running' : s.machine === 'off' ? 'off' : 'off after a crash'}), profile ${s.profile}, design ${s.design} (${s.io ? `I/O pool: ${s.io.attached} of ${s.io.descriptors} descriptors attached, ${s.io.flights.length} I/O in flight` : s.design === 'pfn-only' ? 'no descriptors' : `memmap ${s.memmapPlacement === 'device' ? 'on the device' : 'in RAM'}`})`, s.version);
  const banner = $('banner');
  const notes = [s.readOnly ? `Read-only: ${s.readOnly}.` : '', s.viewedStep !== undefined ? `Showing the state after step ${s.viewedStep} (read-only). Step forward to the last step to return to the present.` : ''].filter(Boolean);
  if (notes.length) {
    banner.textContent = notes.join(' ');
    banner.hidden = false;
  } else {
    if (noticeBoot !== undefined && noticeBoot !== s.bootGeneration) dropNotice(); // a note about one boot ends with it
    if (!banner.dataset.notice) banner.hidden = true;
  }
  const writable = !s.readOnly && s.viewedStep === undefined && !view.work;
  for (const id of ['allocate', 'reboot', 'crash', 'rebootIntoProfile', 'initAll', 'allocFields']) $(id).toggleAttribute('disabled', !writable);
  $('allocOrder').setAttribute('max', String(s.image.maxOrder));
  $('allocNode').setAttribute('max', String(s.image.nodes.length - 1));
  const first = steps.first;
  const last = steps.last;
  const at = s.viewedStep ?? last;
  const timeline = $<HTMLInputElement>('timeline');
  timeline.min = String(first);
  timeline.max = String(last);
  timeline.value = String(at);
  describeStep();
  $('stepLabel').textContent = `step ${at}/${last}`;
  $('stepBack').toggleAttribute('disabled', at <= first);
  $('stepForward').toggleAttribute('disabled', at >= last);
  steps.show(at);
  canvas.setAttribute('aria-label', `Page-frame map of ${s.image.name}: ${total} frames. Arrow keys move the selection, Enter reveals it in the Descriptors view, plus and minus zoom, 0 fits the device, Page Up and Page Down pan.`);
  renderLegend();
  renderCosts($('costs'), s);
}

/** The timeline's spoken value: the step shown and its text, once known. */
export function describeStep(): void {
  if (!view.state) return;
  const last = steps.last;
  const at = view.state.viewedStep ?? last;
  const text = steps.text(at);
  $<HTMLInputElement>('timeline').setAttribute('aria-valuetext', `step ${at} of ${last}${text === undefined ? '' : `: ${text}`}`);
}

/** Long work on the image: a bar above the map with its progress and a Cancel; the toolbar's changes wait for it. */
export function showWork(w: MapWork | null): void {
  view.work = w;
  const bar = $('work');
  bar.hidden = !w;
  if (w) {
    $('workText').textContent = `${w.label}: ${w.cancelling ? 'cancelling…' : `${Math.floor(w.share * 100)} % (${w.message})`}`;
    $<HTMLProgressElement>('workProgress').value = w.share;
    $('workCancel').toggleAttribute('disabled', w.cancelling);
  }
  renderState();
}

/** The boot the banner's note is about (undefined: not about a boot). */
let noticeBoot: number | undefined;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

export function showNotice(text: string, bootGeneration?: number): void {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = false;
  banner.dataset.notice = '1';
  noticeBoot = bootGeneration;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    dropNotice();
    renderState();
  }, 15_000);
}

function dropNotice(): void {
  clearTimeout(noticeTimer);
  noticeBoot = undefined;
  delete $('banner').dataset.notice;
}
