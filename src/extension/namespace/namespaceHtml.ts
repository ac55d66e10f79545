/** The namespace editor's skeleton; dist/namespace.js fills it from the host's messages. */
import { escapeHtml } from '../../shared/plainText';

export function namespaceBody(fileName: string): string {
  const name = escapeHtml(fileName);
  return `<main id="app" aria-busy="true">
<header class="head">
  <h1>${name} <span class="badge" title="This editor never writes to the file">read-only</span></h1>
  <p id="description" class="description"></p>
  <p id="note" class="note" hidden></p>
</header>
<section id="infoSection" aria-labelledby="infoHeading" hidden>
  <h2 id="infoHeading">Info block</h2>
  <table id="fields" class="grid" aria-label="Info block fields"><thead><tr><th scope="col">Field (ndctl)</th><th scope="col">Value</th><th scope="col" class="num">Byte in block</th></tr></thead><tbody></tbody></table>
  <p id="checksum" class="checksum"></p>
  <div id="validation"></div>
</section>
<section id="layoutSection" aria-labelledby="layoutHeading" hidden>
  <h2 id="layoutHeading">Layout</h2>
  <p id="memmapPlace" class="muted"></p>
  <div id="layoutBar" class="layoutBar" role="list" aria-label="Areas of the namespace, drawn to scale"></div>
  <table id="areas" class="grid" aria-label="Areas"><thead><tr><th scope="col">Area</th><th scope="col" class="num">Offset</th><th scope="col" class="num">End</th><th scope="col" class="num">Size</th><th scope="col">What</th></tr></thead><tbody></tbody></table>
  <p id="vmemmap" class="muted"></p>
</section>
<section id="mapSection" aria-labelledby="mapHeading" hidden>
  <h2 id="mapHeading">Page map</h2>
  <p id="mapInfo" class="muted" aria-live="polite"></p>
  <div id="pageMap" class="pageMap" tabindex="0" role="grid" aria-label="Page map: arrow keys move, Enter inspects the first page of the cell"></div>
  <div id="mapLegend" class="legend" aria-label="Legend"></div>
</section>
<section id="inspectSection" aria-labelledby="inspectHeading" hidden>
  <h2 id="inspectHeading">Struct page</h2>
  <form id="pageForm" class="pageForm">
    <label for="pageInput">Namespace page</label>
    <input id="pageInput" type="text" inputmode="numeric" spellcheck="false" autocomplete="off" size="12" aria-describedby="pageHint">
    <button type="submit" id="pageGo">Show</button>
    <button type="button" id="pagePrev" title="The previous page" aria-label="Previous page">◀ Previous</button>
    <button type="button" id="pageNext" title="The next page" aria-label="Next page">Next ▶</button>
    <button type="button" id="pageFirstData">Go to first data page</button>
    <span id="pageHint" class="muted">decimal or 0x hex</span>
  </form>
  <div id="inspector" aria-live="polite"></div>
</section>
</main>`;
}
