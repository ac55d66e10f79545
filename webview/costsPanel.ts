/**
 * The costs panel: what per-page descriptors cost for the open image, or for
 * any size typed in, as a table and a bar chart (src/engine/costs/costs.ts does the sums).
 */
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { CostRow, memmapCosts } from '../src/engine/costs/costs';
import { linuxMemmapCosts } from '../src/engine/costs/linuxCosts';
import { formatBytes } from '../src/engine/core/units';
import { parseTypedSize } from '../src/shared/typedSize';
import type { MapState } from '../src/shared/protocol';

interface TextField extends HTMLElement { value: string; invalid: boolean }

let built = false;
let imageBytes = 0;
let typedDevice = false;

function field(id: string, label: string, placeholder: string): string {
  return `<label for="${id}">${label}</label><vscode-textfield id="${id}" placeholder="${placeholder}" aria-describedby="costsError"></vscode-textfield>`;
}

export function renderCosts(host: HTMLElement, state: MapState): void {
  imageBytes = state.image.totalFrames * 4096;
  if (!built) {
    built = true;
    host.innerHTML = `<div class="costInputs">${field('costDevice', 'Device size', 'e.g. 1T')}${field('costRam', 'RAM size (for the in-RAM case)', 'e.g. 256G')}${field('costGuest', 'VM guest memory', 'same as the device')}</div>
<p id="costsError" class="costsError" role="alert"></p><div id="costsTable"></div>
<p class="chartKey" aria-hidden="true"><span class="key"></span>share of the memory, bare metal <span class="key vm"></span>in a VM (host and guest each keep one)</p>
<div id="costsChart" class="chart" aria-hidden="true"></div><div id="costsLinux"></div>`;
    for (const id of ['costDevice', 'costRam', 'costGuest']) {
      host.querySelector(`#${id}`)!.addEventListener('input', () => {
        if (id === 'costDevice') typedDevice = true;
        update(host);
      });
    }
  }
  const device = host.querySelector<TextField>('#costDevice')!;
  if (!typedDevice) device.value = formatBytes(imageBytes).replace(/\s+/g, '').replace('iB', '');
  update(host);
}

function sizeOf(el: TextField, what: string): number | undefined {
  el.invalid = false;
  if (!el.value.trim()) return undefined;
  try {
    const v = parseTypedSize(el.value, what);
    if (v <= 0) throw new Error(`${what} must be more than 0`);
    return v;
  } catch (e) {
    el.invalid = true;
    throw e;
  }
}

/** The memmap's share of the RAM; one that takes all of it (or more) does not fit: no room is left for anything else. */
function ramCell(r: CostRow, ramBytes: number | undefined): string {
  if (r.inRam.percentOfRam === undefined || ramBytes === undefined) return '—';
  if (r.inRam.exceedsRam) return `does not fit: needs ${formatBytes(r.memmapBytes)} of ${formatBytes(ramBytes)} RAM`;
  return pct(r.inRam.percentOfRam);
}

const pct = (n: number) => `${n < 0.01 ? n.toFixed(4) : n.toFixed(3)} %`;

function update(host: HTMLElement): void {
  const error = host.querySelector('#costsError')!;
  const table = host.querySelector('#costsTable')!;
  const chart = host.querySelector('#costsChart')!;
  let costs;
  try {
    const deviceBytes = sizeOf(host.querySelector<TextField>('#costDevice')!, 'device size') ?? imageBytes;
    const ramBytes = sizeOf(host.querySelector<TextField>('#costRam')!, 'RAM size');
    const vmGuestBytes = sizeOf(host.querySelector<TextField>('#costGuest')!, 'guest memory');
    costs = memmapCosts({ deviceBytes, ramBytes, vmGuestBytes });
    error.textContent = '';
  } catch (e) {
    error.textContent = (e as Error).message;
    return;
  }
  const rows = costs.rows.map((r) => `<tr><th scope="row">${r.descriptorBytes} B per ${formatBytes(r.granularityBytes)}</th><td>${r.descriptors.toLocaleString('en')}</td><td>${formatBytes(r.memmapBytes)}</td><td>${pct(r.percentOfDevice)}</td><td>${ramCell(r, costs.ramBytes)}</td><td>${formatBytes(r.vm.totalBytes)} (${pct(r.vm.totalPercent)})</td></tr>`);
  table.innerHTML = `<table class="costs" aria-label="Memmap costs for ${formatBytes(costs.deviceBytes)}">
<thead><tr><th scope="col">Descriptor</th><th scope="col">Descriptors</th><th scope="col">Memmap</th><th scope="col">Of the device (memmap on the device)</th><th scope="col">Of the RAM (memmap in RAM)</th><th scope="col">In a VM: host + guest, of ${formatBytes(costs.vmGuestBytes)}</th></tr></thead>
<tbody>${rows.join('')}</tbody></table>`;
  const max = Math.max(...costs.rows.map((r) => r.vm.totalPercent));
  chart.innerHTML = costs.rows.map((r) => `<div class="bar"><span class="barLabel">${r.descriptorBytes} B / ${formatBytes(r.granularityBytes)}</span><span class="barTrack"><span class="barFill" data-w="${(r.percentOfDevice / max) * 100}"></span><span class="barFill vm" data-w="${(r.vm.totalPercent / max) * 100}"></span></span><span class="barValue">${pct(r.percentOfDevice)} · VM ${pct(r.vm.totalPercent)}</span></div>`).join('');
  renderLinux(host.querySelector('#costsLinux')!, costs.deviceBytes);
  // Widths through the CSSOM: the page's CSP forbids inline style attributes.
  chart.querySelectorAll<HTMLElement>('.barFill').forEach((b) => (b.style.width = `${Math.max(0.5, Number(b.dataset.w))}%`));
}

const HOME_WORDS = { device: 'on the device', RAM: 'in RAM', 'memory block': 'at the head of each memory block' } as const;

/** What Linux built for the same device: its memmaps and the ways it shrinks them, with the kernel's numbers (text only: no markup from figures). */
function renderLinux(el: Element, deviceBytes: number): void {
  const table = document.createElement('table');
  table.className = 'costs';
  table.setAttribute('aria-label', `What Linux builds for ${formatBytes(deviceBytes)}`);
  const caption = table.createCaption();
  caption.textContent = `What Linux builds for ${formatBytes(deviceBytes)}`;
  const head = table.createTHead().insertRow();
  for (const h of ['Kernel', 'Memmap', 'Of the device', 'Where', 'How']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of linuxMemmapCosts(deviceBytes)) {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = r.name;
    tr.append(th);
    for (const text of [formatBytes(r.memmapBytes), pct(r.percentOfDevice), HOME_WORDS[r.home], r.how]) tr.insertCell().textContent = text;
  }
  el.replaceChildren(table);
}
