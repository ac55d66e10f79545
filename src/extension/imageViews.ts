/** The editor's HTML bodies: the map's skeleton, and the error view for an image that failed validation. */
import { ImageError } from '../engine/core/errors';
import { escapeHtml } from '../shared/plainText';

/** `namespace`: what the file is, when it is a Linux namespace, offered to the namespace editor. */
export function errorBody(fileName: string, error: Error, namespace?: string): string {
  const loc = error instanceof ImageError ? error.location : {};
  const where = [loc.field, loc.offset !== undefined ? `byte ${loc.offset} (0x${loc.offset.toString(16)})` : '', loc.section !== undefined ? `section ${loc.section}` : '', loc.pfn !== undefined ? `pfn ${loc.pfn}` : '']
    .filter(Boolean).join(', ');
  const message = error instanceof ImageError ? error.reason : error.message;
  return `<h1>${escapeHtml(fileName)} cannot be opened as a pmem image</h1>
<div class="error" role="alert"><p>${escapeHtml(message)}</p>${where ? `<p class="where">at ${escapeHtml(where)}</p>` : ''}</div>
${namespace ? `<p class="namespace" role="status">This file is ${escapeHtml(namespace)}. The Linux Namespace editor shows it (read-only).</p>` : ''}
<p class="note">Nothing was written to the file. You can inspect its bytes with another editor.</p>
<p>${namespace ? '<button data-message="openAsNamespace">Open as Linux Namespace</button> ' : ''}<button data-message="reopenWith">Reopen With…</button></p>`;
}

/** The map editor's skeleton; dist/webview.js fills it from the host's messages. */
export function mapBody(fileName: string): string {
  return `<div id="app" data-name="${escapeHtml(fileName)}">
<header class="toolbar" role="toolbar" aria-label="Image actions">
  <span class="group">
    <vscode-button id="allocate" secondary title="Allocate blocks (order, count, node, zone, owner)">Allocate…</vscode-button>
    <vscode-button id="free" secondary disabled title="Free the allocated block at the selected frame">Free selected</vscode-button>
  </span>
  <form id="allocForm" class="group allocForm" novalidate aria-label="Quick allocate" title="Allocate with these answers: Enter in any field">
    <fieldset id="allocFields">
      <label>order <input id="allocOrder" type="number" min="0" value="0" required></label>
      <label>count <input id="allocCount" type="number" min="1" value="1" required></label>
      <label>node <input id="allocNode" type="number" min="0" value="0" required></label>
      <label>owner <input id="allocOwner" type="text" maxlength="16" placeholder="none" spellcheck="false"></label>
      <button id="allocGo" type="submit">Allocate</button>
    </fieldset>
  </form>
  <span class="group" aria-label="History">
    <vscode-button id="stepBack" secondary title="Show the state one step earlier (Alt+[)">◀ Step</vscode-button>
    <input id="timeline" type="range" min="0" max="0" value="0" aria-label="History step">
    <vscode-button id="stepForward" secondary title="Show the state one step later (Alt+])">Step ▶</vscode-button>
    <span id="stepLabel" class="muted"></span>
  </span>
  <span class="group">
    <vscode-button id="reboot" secondary title="Clean shutdown and boot: every initialised section turns stale">Reboot</vscode-button>
    <vscode-button id="crash" secondary title="Power failure during an allocation, after a chosen persistence point; then boot with recovery">Crash at…</vscode-button>
    <vscode-button id="rebootIntoProfile" secondary title="Reboot into another kernel profile">Reboot into profile…</vscode-button>
    <vscode-button id="initAll" secondary title="Initialise every section now instead of on first use">Initialise all</vscode-button>
  </span>
  <span class="group" aria-label="Zoom">
    <vscode-button id="zoomOut" secondary title="Zoom out (-)" aria-label="Zoom out">−</vscode-button>
    <vscode-button id="zoomIn" secondary title="Zoom in (+)" aria-label="Zoom in">+</vscode-button>
    <vscode-button id="fit" secondary title="Show the whole device (0)">Fit</vscode-button>
    <vscode-button id="overlay" secondary aria-pressed="false" title="Colour each cell by the largest free block in it: fragmentation at any zoom (O)">Largest free order</vscode-button>
    <vscode-button id="exportMap" secondary title="Export the current view as PNG or SVG">Export…</vscode-button>
  </span>
</header>
<p id="banner" class="banner" role="status" hidden></p>
<p id="summary" class="summary" aria-label="Image summary"></p>
<div class="mapArea">
  <canvas id="map" tabindex="0" role="application" aria-roledescription="page-frame map" aria-label="Page-frame map of ${escapeHtml(fileName)}"></canvas>
  <canvas id="overview" aria-label="Overview of the whole device; click to jump" role="img"></canvas>
  <div id="tooltip" class="tooltip" role="tooltip" hidden></div>
  <div id="work" class="work" role="region" aria-label="Work under way" hidden>
    <span id="workText" aria-live="polite"></span>
    <progress id="workProgress" max="1" value="0" aria-label="Work done"></progress>
    <vscode-button id="workCancel" secondary title="Stop it: the image goes back to how it was before">Cancel</vscode-button>
  </div>
</div>
<p id="selection" class="selection" aria-live="polite"></p>
<p id="chainLabel" class="selection" aria-live="polite"></p>
<div id="legend" class="legend" aria-label="Legend"></div>
<vscode-collapsible id="historyPanel" heading="History"><ol id="steps" class="steps"></ol></vscode-collapsible>
<vscode-collapsible id="fragPanel" heading="Fragmentation over the history">
  <div class="frag">
    <div class="fragControls">
      <label>zone <select id="fragZone" aria-label="Zone charted"></select></label>
      <label>indexes at order <select id="fragOrder" aria-label="Order of the indexes charted"></select></label>
      <span id="fragStatus" class="muted" role="status"></span>
    </div>
    <div class="fragCharts">
      <div class="fragChart"><canvas id="fragBlocks" role="img" aria-label="Free pages by the order of their block, over the history steps; the sentence under the charts gives the figures at the step shown"></canvas></div>
      <div class="fragChart"><canvas id="fragIndexes" role="img" aria-label="Fragmentation index, unusable free space index and largest free order over the history steps; the sentence under the charts gives the figures at the step shown"></canvas></div>
    </div>
    <p id="fragAt" class="muted fragAt" aria-live="polite"></p>
    <p class="muted fragNote">Computed from the image's free lists as Linux computes /proc/buddyinfo, extfrag_index and unusable_index. After a replayed trace they are the trace's view: a trace misses some of the kernel's allocations. Click a chart to show that step.</p>
  </div>
</vscode-collapsible>
<vscode-collapsible id="costsPanel" heading="Memmap costs"><div id="costs"></div></vscode-collapsible>
</div>`;
}
