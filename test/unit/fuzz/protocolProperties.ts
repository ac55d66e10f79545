/**
 * Random webview-to-host messages through the real protocol guard. What the
 * guard accepts must be safe for the host's handlers: the engine calls they
 * make (map cells, a frame, a free, a history step) end in a result or a
 * located error, and the numbers they take are whole and in range.
 */
import fc from 'fast-check';
import { freeOp, frames, PmemImage, stateAt } from '../../../src/engine';
import { mapCells } from '../../../src/engine/inspect/mapCells';
import { isWebviewToHost, MAP_COMMANDS, MAX_CELLS_PER_REQUEST, MAX_FRAG_SAMPLES, WebviewToHost } from '../../../src/shared/protocol';
import { freeBlockIndex, largestFreeOrders } from '../../../src/engine/inspect/freeBlocks';
import { fragmentationHistory } from '../../../src/engine/inspect/fragHistory';
import { basePool } from './imageProperties';
import { storeOf } from './images';
import { attempt } from './outcome';

const number = fc.oneof(
  fc.nat(), fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, Number.POSITIVE_INFINITY, MAX_CELLS_PER_REQUEST, MAX_CELLS_PER_REQUEST + 1),
  fc.constantFrom('7', '0x10', '', null, true, [], {}),
);
const field = fc.constantFrom(
  'type', 'id', 'pfn', 'firstPfn', 'framesPerCell', 'cells', 'command', 'step', 'format', 'data', 'message', '__proto__', 'constructor', 'prototype', 'toString', 'seq', 'req', 'reveal', 'ack',
  'overlay', 'samples', 'columns', 'cellPx', 'width', 'height', 'dpr', 'owners', 'palette',
);
const typeName = fc.constantFrom('ready', 'reopenWith', 'revealFrame', 'getCells', 'getFrame', 'command', 'goToStep', 'getFragHistory', 'view', 'exported', 'select', 'state', 'READY', '');

/** Messages near the protocol: a known type with fields of any shape. */
const nearMessage = fc.record({ type: typeName }).chain((m) =>
  fc.dictionary(field, fc.oneof(number, fc.constantFrom(...MAP_COMMANDS, 'workbench.action.files.delete', 'png', 'svg', 'gif'), fc.boolean(), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 })
    .map((extra) => ({ ...extra, type: m.type })),
);
/** Prototype-pollution shapes as JSON.parse makes them (own "__proto__" keys). */
const polluted = fc.constantFrom(
  '{"type":"ready","__proto__":{"polluted":1}}', '{"__proto__":{"type":"ready"}}', '{"type":"getFrame","id":1,"pfn":1,"constructor":{"prototype":{"x":1}}}',
  '{"type":"command","command":"free","pfn":4096,"__proto__":{"pfn":1}}',
).map((t) => JSON.parse(t) as unknown);

export const messageArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: nearMessage },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 2, withNullPrototype: true, withObjectString: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: polluted },
);

const whole = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** What each handler assumes of an accepted message; throws when the guard let through something it cannot take. */
export function assertHandlerExpectations(msg: WebviewToHost): void {
  const bad = (what: string) => {
    throw new Error(`guard accepted ${JSON.stringify(msg)}, but ${what}`);
  };
  if (Object.keys(msg).some((k) => k === '__proto__' || k === 'constructor')) bad('it carries a prototype key');
  switch (msg.type) {
    case 'getCells':
      if (!whole(msg.id) || !whole(msg.firstPfn) || !whole(msg.cells) || !whole(msg.framesPerCell) || msg.framesPerCell < 1 || msg.cells > MAX_CELLS_PER_REQUEST) bad('the window is not whole and bounded');
      break;
    case 'getFrame':
      if (!whole(msg.pfn)) bad('pfn is not a whole number');
      break;
    case 'select':
      if (!whole(msg.pfn) || !whole(msg.req) || typeof msg.reveal !== 'boolean') bad('the selection is not a whole pfn with a whole request number');
      break;
    case 'command':
      if (!(MAP_COMMANDS as readonly string[]).includes(msg.command)) bad('the command is not one the map may run');
      if (msg.pfn !== undefined && !whole(msg.pfn)) bad('pfn is not a whole number');
      break;
    case 'goToStep':
      if (!whole(msg.step)) bad('step is not a whole number');
      break;
    case 'getFragHistory':
      if (!whole(msg.samples) || msg.samples < 2 || msg.samples > MAX_FRAG_SAMPLES) bad('samples is not a whole number in range');
      break;
    case 'view': {
      const size = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
      if (!whole(msg.columns) || msg.columns < 1 || ![msg.cellPx, msg.width, msg.height, msg.dpr].every(size)) bad('the layout is not whole and positive');
      if (!Object.values(msg.palette).every((c) => typeof c === 'number' || (Array.isArray(c) && c.flat().every((v) => typeof v === 'number' && v >= 0 && v <= 255)))) bad('a colour is out of range');
      break;
    }
  }
}

/** The engine calls the host makes for a message, on a booted copy of `bytes`. */
export function handleOnEngine(bytes: Uint8Array, msg: WebviewToHost): void {
  const img = PmemImage.open(storeOf(bytes), { readOnly: true });
  if (msg.type === 'getCells') {
    // The host asks for cells within the image; a window past its end is drawn empty (bounded by the guard).
    const cells = Math.min(msg.cells, 4096);
    attempt('getCells', () => mapCells(img, { firstPfn: msg.firstPfn, framesPerCell: msg.framesPerCell, cells }));
    if (msg.overlay) attempt('getCells overlay', () => largestFreeOrders(freeBlockIndex(img), { firstPfn: msg.firstPfn, framesPerCell: msg.framesPerCell, cells }));
  } else if (msg.type === 'getFragHistory') {
    attempt('getFragHistory', () => fragmentationHistory(img, msg.samples));
  } else if (msg.type === 'getFrame') {
    if (msg.pfn < img.geometry.totalFrames) attempt('getFrame', () => frames(img, msg.pfn, 1));
  } else if (msg.type === 'goToStep') {
    attempt('goToStep', () => stateAt(img, msg.step));
  } else if (msg.type === 'command' && msg.command === 'free' && msg.pfn !== undefined) {
    const booted = PmemImage.open(storeOf(bytes), {});
    attempt('free', () => freeOp(booted, [msg.pfn!]));
  }
}

export function protocolProperty(seed: number): fc.IPropertyWithHooks<[unknown]> {
  const [base] = basePool(1, seed);
  return fc.property(messageArb, (msg) => {
    if (!isWebviewToHost(msg)) return;
    assertHandlerExpectations(msg);
    handleOnEngine(base.bytes, msg);
  });
}
