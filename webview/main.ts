/**
 * The map editor's webview: a canvas page-frame map with zoom, pan, hover,
 * selection and keyboard control, a toolbar, a history timeline, a legend and
 * the costs panel. It holds no image data of its own: it asks the host for
 * the cells it is about to draw, and validates every message it receives.
 *
 * This file wires the parts (under map/) to the host's messages and the
 * page's buttons; each concern lives in its own module: the shared view
 * (model), the layout (viewport), the cells and their patches (cells), the
 * drawing (draw), moving the map (navigation), the selection, the tooltip,
 * pointer and keys (input), the legend, the text around the map
 * (statusPanel), the quick allocation form, and what Export Map draws (viewReport).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { isHostToWebview, MapCommand } from '../src/shared/protocol';
import { FragChart } from './fragChart';
import { setChain } from './chainOverlay';
import { keepTextFieldKeys } from './textFieldKeys';
import { readTheme } from './palette';
import { listenToAllocationForm, showLastAllocation } from './map/allocationForm';
import { refresh, requestCells, requestOverview } from './map/cells';
import { draw } from './map/draw';
import { requests } from './map/hostRequests';
import { listenToInput } from './map/input';
import { renderLegend } from './map/legendPanel';
import { $, canvas, overview, post, view } from './map/model';
import { fit, follow, relayout, showOverlayButton, toggleOverlay, zoomBy } from './map/navigation';
import { describeSelected, describeSelection, followHost, showSelection } from './map/selection';
import { renderState, showNotice, showWork, steps } from './map/statusPanel';

keepTextFieldKeys(document);

/** Counts the states that brought history news: the chart reads the history again when it changes. */
let historyChanges = 0;
const fragChart = new FragChart($('fragPanel'), {
  ask: (samples) => requests.request('frag', { samples }),
  goToStep: (step) => post({ type: 'goToStep', step }),
}, view.theme);

window.addEventListener('message', (e: MessageEvent) => {
  const msg: unknown = e.data;
  if (!isHostToWebview(msg)) return; // validate before acting
  switch (msg.type) {
    case 'state': {
      const first = !view.state;
      const state = (view.state = msg.state);
      steps.update(state.history);
      if (state.history.reset || state.history.added.length || first) historyChanges++;
      document.body.dataset.animateChanges = String(state.animateChanges);
      if (first) relayout();
      renderState();
      refresh(state);
      fragChart.update(`${steps.first}-${steps.last}-${historyChanges}`, state.viewedStep ?? steps.last);
      if (view.selected !== undefined && view.selected >= state.image.totalFrames) showSelection(state.image.totalFrames - 1);
      else void describeSelected();
      return;
    }
    case 'cells':
      requests.answer('cells', msg.id, msg);
      return;
    case 'frame':
      requests.answer('frame', msg.id, msg.frame);
      return;
    case 'mix':
      requests.answer('mix', msg.id, msg.mix);
      return;
    case 'steps':
      requests.answer('steps', msg.id, msg.steps);
      return;
    case 'select':
      followHost(msg);
      return;
    case 'lastAllocation':
      showLastAllocation(msg.answers);
      return;
    case 'fragHistory':
      if (msg.history) requests.answer('frag', msg.id, msg.history);
      else requests.fail('frag', msg.id, new Error(msg.error ?? 'no answer'));
      return;
    case 'notice':
      showNotice(msg.text, msg.bootGeneration);
      return;
    case 'work':
      showWork(msg.work);
      return;
    case 'chain':
      setChain(msg.chain);
      draw();
      return;
    case 'follow':
      follow(msg);
      return;
  }
});

listenToInput();
listenToAllocationForm();

const command = (name: MapCommand) => () => post({ type: 'command', command: name, pfn: name === 'free' ? view.selectedFrame?.blockPfn : undefined });
for (const name of ['allocate', 'reboot', 'crash', 'rebootIntoProfile', 'initAll', 'stepBack', 'stepForward', 'exportMap'] as const) $(name).addEventListener('click', command(name));
$('free').addEventListener('click', command('free'));
$('workCancel').addEventListener('click', command('cancelOperation'));
$('zoomIn').addEventListener('click', () => zoomBy(1));
$('zoomOut').addEventListener('click', () => zoomBy(-1));
$('fit').addEventListener('click', fit);
$('overlay').addEventListener('click', toggleOverlay);
showOverlayButton();
$<HTMLInputElement>('timeline').addEventListener('change', (e) => post({ type: 'goToStep', step: Number((e.target as HTMLInputElement).value) }));

new ResizeObserver(() => {
  const area = canvas.parentElement!;
  const width = Math.max(0, area.clientWidth - overview.offsetWidth - 8);
  const height = Math.max(0, area.clientHeight);
  if (width === view.cssWidth && height === view.cssHeight) return;
  view.cssWidth = width;
  view.cssHeight = height;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  relayout(view.layout && view.selected !== undefined ? { pfn: view.selected, y: height / 2 } : undefined);
  // A line of text above or below the map wrapping anew changes its height, seldom what it shows: held cells are not asked for again.
  requestCells(true);
  requestOverview(true);
  draw();
}).observe(canvas.parentElement!);

// Theme changes switch the body's classes: re-read the colours.
new MutationObserver(() => {
  view.theme = readTheme();
  renderLegend();
  fragChart.setTheme(view.theme);
  draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// The banner keeps one line (the map must not move): its whole text is in its title.
new MutationObserver(() => ($('banner').title = $('banner').textContent ?? '')).observe($('banner'), { childList: true, characterData: true, subtree: true });

describeSelection();
// Pressing on the map makes its editor the active one, whatever the workbench does with clicks in a webview.
window.addEventListener('pointerdown', () => post({ type: 'pointed' }), { capture: true });
post({ type: 'ready' });
