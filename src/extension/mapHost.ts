/** The host side of one map editor: sends the image's state, answers the webview's requests for cells and frames. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeNotification } from '../shared/plainText';
import { Refusal } from './refusal';
import { blockLinks, flagNames, frames, info, IO_POOL_DESCRIPTORS, keepsDescriptors, REGION_LABELS, REGION_NAMES } from '../engine';
import { everythingChanged, ImageChange } from '../engine/image/changeSet';
import { HistoryFeed } from '../engine/inspect/historyFeed';
import { cellMix, mapCells, mapCellsAsync } from '../engine/inspect/mapCells';
import { FreeBlockIndex, freeBlockIndexAsync, largestFreeOrders } from '../engine/inspect/freeBlocks';
import { fragmentationHistoryAsync } from '../engine/inspect/fragHistory';
import type { PmemImage } from '../engine';
import type { StepsUpdate } from '../engine/inspect/steps';
import { CellsData, ChainData, FRAG_HISTORY_CHANGED, MapMove, MapView, svgRefusal, FrameDetails, HostToWebview, isWebviewToHost, MapState, MapWindowRole, MapWork, WebviewToHost } from '../shared/protocol';
import { changedCellRuns, CellWindow, patchCells, subWindow } from '../shared/mapPatch';
import { MapChangeLog } from './mapChangeLog';
import { layoutAt, fitZoom } from '../shared/mapGeometry';
import { ioCellRuns, MapBox, paintMap, withAxisAndLegend } from '../shared/mapPicture';
import { encodePng } from '../engine/node/pngFile';
import { DEFAULT_PALETTES, rasterise, rasteriseLargestFree } from '../shared/mapRaster';
import { svgOfMap } from '../shared/svgMap';
import { lastAllocation } from './lastAllocation';
import type { LongWork } from './longWork';
import type { PmemDocument, SelectionChange } from './pmemDocument';

/** The box a map that has not shown yet is exported in, as `pmem map` draws by default. */
const FALLBACK_WIDTH = 1024;
const FALLBACK_HEIGHT = 768;
/** More changed runs or sections than this are sent as a change of everything. */
const MAX_CHANGE_RUNS = 4096;
/** The most changed frames whose cells are worked out at once and sent with the state. */
const MAX_PATCH_FRAMES = 16384;

export class MapHost implements vscode.Disposable {
  /** The newest state version the map has drawn, and when it said so (performance.now()). */
  drawn?: { version: number; at: number };
  private readonly drawnEmitter = new vscode.EventEmitter<{ version: number; at: number }>();
  /** Fires when the map has drawn a newer state: benchmarks time a change to its picture by it. */
  readonly onDidDraw = this.drawnEmitter.event;
  private readonly moveEmitter = new vscode.EventEmitter<MapMove>();
  /** Fires when the user moves the map (zoom, pan, fit): maps in step follow. */
  readonly onDidMove = this.moveEmitter.event;
  /** Where the map last said it was, or was told to go. */
  lastMove?: MapMove;
  /** The last state sent, for tests and for answering late requests. */
  lastState?: MapState;
  /** The last selection sent to the webview, for tests. */
  lastSelection?: { pfn: number; seq: number };
  /** The last of its own selections the webview sent (its `req`), echoed in every select so it can tell stale news. */
  private ack = 0;
  private version = 0;
  /** The change each version brought, as sent: a window worked out while states change is patched up to the newest. */
  private readonly changes = new MapChangeLog();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** What the map shows now, as it last said (Export Map draws it). */
  private view?: MapView;
  /** The windows the webview last asked for whole: a change comes with their changed cells. */
  private readonly windows = new Map<MapWindowRole, CellWindow>();
  /** The history steps the webview was told of. */
  private readonly feed = new HistoryFeed();
  /** Time the last state took to make and post, for tests and measurements. */
  lastStateMs?: number;
  /** How often the webview said it had loaded, and whether it has told what it shows: what a test names when a map stays undrawn. */
  readies = 0;
  get viewKnown(): boolean {
    return this.view !== undefined;
  }


  constructor(readonly document: PmemDocument, readonly panel: vscode.WebviewPanel, work: LongWork) {
    // First of the panel's listeners: news that arrives while the others run (a state, a late answer) is not posted to a closed webview.
    this.subscriptions.push(panel.onDidDispose(() => (this.disposed = true)));
    // lastState is known at once; the webview asks for it again when it has loaded, and gets the history steps then (decoded once).
    this.sendState(everythingChanged(), false);
    this.subscriptions.push(
      document.onDidChangeState((change) => this.sendState(change)),
      document.onDidChangeSelection((c) => this.sendSelection(c)),
      lastAllocation.onDidChange(() => this.sendLastAllocation()),
      work.onDidChange((e) => {
        if (e.doc === document) this.sendWork(e.state);
      }),
      panel.webview.onDidReceiveMessage((msg: unknown) => {
        if (!isWebviewToHost(msg)) return; // untrusted input: ignore anything off-protocol
        void this.handle(msg, work).catch((e: Error) => vscode.window.showErrorMessage(escapeNotification(e.message)));
      }),
    );
  }

  /** Shows the place another map in step moved to. */
  follow(move: MapMove): void {
    this.lastMove = move;
    this.post({ type: 'follow', ...move });
  }

  private post(msg: HostToWebview): void {
    if (this.disposed) return; // closed: posting would throw "Webview is disposed"
    void this.panel.webview.postMessage(msg);
  }

  private async handle(msg: WebviewToHost, work: LongWork): Promise<void> {
    const img = this.document.viewImage;
    switch (msg.type) {
      case 'ready':
        this.readies++;
        this.ack = 0; // a (re)loaded webview counts its selections from 1 again
        this.windows.clear();
        this.feed.reset(); // it has no steps yet: they are all sent again
        this.sendState();
        if (this.document.selection) this.sendSelection(this.document.selection);
        if (this.lastChain) this.post({ type: 'chain', chain: this.lastChain });
        this.sendLastAllocation();
        {
          const w = work.underWay;
          if (w?.doc === this.document) this.sendWork(w);
        }
        return;
      case 'reopenWith':
        await vscode.commands.executeCommand('workbench.action.reopenWithEditor', this.document.uri);
        return;
      case 'getCells': {
        if (!img) return;
        const window = { firstPfn: msg.firstPfn, framesPerCell: msg.framesPerCell, cells: msg.cells };
        if (msg.window) {
          this.windows.set(msg.window, window);
          this.latestAsk.set(msg.window, msg.id);
        }
        await this.answerCells(msg.id, window, msg.window, msg.overlay === true);
        return;
      }
      case 'getFragHistory':
        await this.answerFragHistory(msg.id, msg.samples);
        return;
      case 'getFrame': {
        const f = img && msg.pfn < img.geometry.totalFrames ? frames(img, msg.pfn, 1)[0] : undefined;
        // The map asks afresh at every hover, so any frame of a free block shows its block's links.
        if (img && f?.kind === 'free' && !f.links && f.blockPfn !== undefined) f.links = blockLinks(img, f.blockPfn);
        this.post({ type: 'frame', id: msg.id, frame: f ? details(f, !keepsDescriptors(img!.geometry)) : null });
        return;
      }
      case 'getMix': {
        // A cell is an aligned power of two of frames, as the map lays them out; anything else is refused.
        const ok = img && msg.pfn < img.geometry.totalFrames && Number.isInteger(Math.log2(msg.frames)) && msg.pfn % msg.frames === 0;
        this.post({ type: 'mix', id: msg.id, mix: ok ? cellMix(img, msg.pfn, msg.frames) : null });
        return;
      }
      case 'getSteps': {
        const image = this.document.session?.image;
        this.post({ type: 'steps', id: msg.id, steps: image ? this.feed.stepTexts(image, msg.from, msg.to) : [] });
        return;
      }
      case 'select':
        this.ack = msg.req;
        if (img && msg.pfn < img.geometry.totalFrames) this.document.select(msg.pfn, 'map', { reveal: msg.reveal, origin: this });
        else if (this.document.selection) this.sendSelection(this.document.selection); // refused: the map goes back to the document's
        return;
      case 'command':
        // Only Free takes an argument from the map (the selected frame); the others ask for what they need.
        await vscode.commands.executeCommand(`pmemExplorer.${msg.command}`, msg.command === 'free' ? msg.pfn : undefined);
        return;
      case 'drawn':
        if (msg.version > (this.drawn?.version ?? -1)) {
          this.drawn = { version: msg.version, at: performance.now() };
          this.drawnEmitter.fire(this.drawn);
        }
        return;
      case 'allocate':
        // The command validates the answers against the image and says what is wrong.
        await vscode.commands.executeCommand('pmemExplorer.allocate', { order: msg.order, count: msg.count, node: msg.node, zone: lastAllocation.answers?.zone ?? 'normal', owner: msg.owner });
        return;
      case 'goToStep':
        await vscode.commands.executeCommand('pmemExplorer.goToStep', msg.step);
        return;
      case 'view': {
        const { type: _type, ...view } = msg;
        this.view = view;
        return;
      }
      case 'pointed':
        // Commands act on the active editor: the map the user works on must be it, as a tab click would make it.
        if (!this.panel.active) this.panel.reveal(this.panel.viewColumn, false);
        return;
      case 'moved':
        this.lastMove = { zoom: msg.zoom, topPfn: msg.topPfn };
        this.moveEmitter.fire(this.lastMove);
        return;
    }
  }

  /** The newest request for each whole window: an older one still being worked out stops. */
  private readonly latestAsk = new Map<MapWindowRole, number>();
  private disposed = false;

  /**
   * Works out a window's cells in slices, so a window of a million single
   * blocks does not hold the host. States that change some frames meanwhile
   * are patched in at the end, so the answer is of the newest state however
   * often the image changes; after a change of everything (or with the
   * overlay, walked per state) it starts again. A request overtaken by a
   * newer one for the same window is answered empty (the map drops it).
   */
  private async answerCells(id: number, window: CellWindow, role: MapWindowRole | undefined, overlay = false): Promise<void> {
    const overtaken = () => this.disposed || (role !== undefined && this.latestAsk.get(role) !== id);
    for (;;) {
      const img = this.document.viewImage;
      if (!img) return;
      const version = this.version;
      // Cells whose frames a change touches are worked out again at the end: the walk only has to be of states patched alike.
      const stopped = () => overtaken() || this.document.viewImage !== img || (this.version !== version && (overlay || !this.changes.patchable(version, this.version)));
      const cells = overtaken() ? undefined : await mapCellsAsync(img, window, { stopped });
      // The overlay's walk of the free lists (undefined: stopped, like the cells); one that fails (a damaged image) leaves the map drawn by state.
      const index = cells && overlay ? await this.freeBlocks(img, stopped).catch(() => null) : null;
      if (this.disposed) return;
      if (cells && index !== undefined && !stopped() && (this.version === version || this.catchUp(img, window, cells, version))) {
        this.post({ type: 'cells', id, version: this.version, ...cells, ...(index ? { largestFree: largestFreeOrders(index, window) } : {}) });
        return;
      }
      if (overtaken()) {
        this.post({ type: 'cells', id, version: this.version, ...mapCells(img, { ...window, cells: 0 }) });
        return;
      }
    }
  }

  /** Works out again, on the image as it is now, the cells that changed since `version`: false when too many did. */
  private catchUp(img: PmemImage, window: CellWindow, cells: CellsData, version: number): boolean {
    const change = this.changes.since(version, this.version);
    const runs = change && changedCellRuns(window, change, img.geometry.sectionFrames);
    if (!runs) return false;
    return runs.every((run) => patchCells(cells, mapCells(img, subWindow(window, run))) !== undefined);
  }

  /** The free blocks of the image shown, walked once per state (the map and the overview share the walk). */
  private freeIndex?: { img: PmemImage; version: number; walk: Promise<FreeBlockIndex | undefined> };

  private freeBlocks(img: PmemImage, stopped: () => boolean): Promise<FreeBlockIndex | undefined> {
    const cached = this.freeIndex;
    if (cached?.img === img && cached.version === this.version) return cached.walk;
    const walk = freeBlockIndexAsync(img, { stopped });
    const version = this.version;
    this.freeIndex = { img, version, walk };
    walk.then((index) => {
      // A walk stopped for one request is not kept for the next.
      if (!index && this.freeIndex?.walk === walk) this.freeIndex = undefined;
      // Damaged lists are said once per state: the overlay shows what could be walked.
      if (index?.cut.length && this.version === version) this.notice(`The overlay shows the free lists as far as they could be walked: ${index.cut.join('; ')} ${index.cut.length === 1 ? 'holds' : 'hold'} fewer blocks than counted. Check Image says why.`);
    }, (e: Error) => {
      if (this.freeIndex?.walk === walk) this.freeIndex = undefined;
      if (this.version === version) this.notice(`The largest-free-order overlay cannot be drawn: ${e.message}`);
    });
    return walk;
  }

  /**
   * Free blocks by order over the history of the image (its present, not the
   * step shown: the chart marks that step), worked out in slices.
   */
  private async answerFragHistory(id: number, samples: number): Promise<void> {
    const image = this.document.session?.image;
    if (!image) {
      this.post({ type: 'fragHistory', id, history: null, error: 'the image is not open' });
      return;
    }
    // Only a change of the history stops the walk: showing another step (a click on the chart) does not.
    const changes = this.historyChanges;
    try {
      const history = await fragmentationHistoryAsync(image, samples, { stopped: () => this.disposed || this.document.session?.image !== image || this.historyChanges !== changes });
      if (this.disposed) return;
      if (!history) this.post({ type: 'fragHistory', id, history: null, error: FRAG_HISTORY_CHANGED });
      else this.post({ type: 'fragHistory', id, history });
    } catch (e) {
      this.post({ type: 'fragHistory', id, history: null, error: (e as Error).message });
    }
  }

  /**
   * The map's current view as PNG bytes (with its axis and, if `legend`, the
   * legend under it) or SVG text (the cells alone), drawn here from the cells
   * of the window the map shows, in the colours it read from the theme. A map
   * that has not shown yet exports the whole device, in the theme's kind of
   * default colours.
   */
  async renderExport(format: 'png' | 'svg', legend = true): Promise<Buffer | string> {
    const img = this.document.viewImage;
    if (!img) throw new Refusal('The image is not open');
    const g = img.geometry;
    const v = this.view;
    const kind = vscode.window.activeColorTheme.kind;
    const palette = v?.palette ?? DEFAULT_PALETTES[kind === vscode.ColorThemeKind.Light || kind === vscode.ColorThemeKind.HighContrastLight ? 'light' : 'dark'];
    let box: MapBox;
    if (v) {
      // The view as the map last drew it: its first frame, cell size and layout together, never mixed with a window asked for since.
      box = {
        firstPfn: v.firstPfn, framesPerCell: v.framesPerCell, columns: v.columns, rows: Math.max(1, Math.ceil(v.height / v.cellPx)),
        cellPx: v.cellPx * v.dpr, width: Math.max(1, Math.round(v.width * v.dpr)), height: Math.max(1, Math.round(v.height * v.dpr)),
      };
    } else {
      const l = layoutAt(fitZoom(g.totalFrames, FALLBACK_WIDTH, FALLBACK_HEIGHT), g.totalFrames, FALLBACK_WIDTH);
      box = { firstPfn: 0, framesPerCell: l.framesPerCell, columns: l.columns, rows: l.rows, cellPx: l.cellPx, width: Math.max(1, Math.round(l.columns * l.cellPx)), height: Math.max(1, Math.round(l.rows * l.cellPx)) };
    }
    const window = { firstPfn: box.firstPfn, framesPerCell: box.framesPerCell, cells: Math.max(0, Math.min(box.columns * box.rows, Math.ceil((g.totalFrames - box.firstPfn) / box.framesPerCell))) };
    const tooLarge = format === 'svg' ? svgRefusal(window.cells) : undefined;
    if (tooLarge) throw new Refusal(`Export Map: ${tooLarge}`);
    const cells = (await mapCellsAsync(img, window))!;
    const overlay = v?.overlay === true;
    const largestFree = overlay ? largestFreeOrders((await freeBlockIndexAsync(img))!, window) : undefined;
    const slots = v ? new Map(v.owners) : undefined;
    if (format === 'svg') {
      const rgba = new Uint8ClampedArray(Math.max(1, cells.cells) * 4);
      if (largestFree) rasteriseLargestFree(cells, largestFree, palette, g.maxOrder, rgba);
      else rasterise(cells, palette, g.maxOrder, rgba, undefined, slots);
      const fills = Array.from({ length: cells.cells }, (_, c) => `#${[rgba[c * 4], rgba[c * 4 + 1], rgba[c * 4 + 2]].map((x) => x.toString(16).padStart(2, '0')).join('')}`);
      const title = `${path.basename(this.document.uri.fsPath)}: pfn ${window.firstPfn} to ${window.firstPfn + window.cells * window.framesPerCell - 1}, ${window.framesPerCell} frame(s) per cell${overlay ? ', coloured by the largest free order' : ''}`;
      const io = img.io.flights.length ? ioCellRuns(img.io.flights, window.firstPfn, window.framesPerCell, box.columns, cells.cells) : undefined;
      const ioColour = `#${palette.io.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`;
      return svgOfMap({ columns: box.columns, rows: Math.ceil(cells.cells / box.columns), cellPx: box.cellPx / (v?.dpr ?? 1), fills, title, io, ioColour });
    }
    const io = img.io.flights.length ? img.io.flights : undefined;
    const picture = paintMap(cells, box, palette, g.maxOrder, { largestFree, slots, io });
    return encodePng(withAxisAndLegend(img, picture, box, palette, { overlay, legend, owners: cells.owners, slots, keepWidth: v !== undefined, io: io !== undefined }));
  }

  /** Tells the webview the document's selection; it keeps its own when it has made a newer one the host has not yet taken. */
  private sendSelection(c: SelectionChange): void {
    this.lastSelection = { pfn: c.pfn, seq: c.seq };
    this.post({ type: 'select', pfn: c.pfn, seq: c.seq, ack: this.ack, ...(c.zoom ? { zoom: true } : {}) });
  }

  /** The work under way on this image (undefined: none), for the map's progress bar. */
  lastWork?: MapWork | null;

  private sendWork(w: MapWork | undefined): void {
    this.lastWork = w ? { label: w.label, share: w.share, message: w.message, cancelling: w.cancelling } : null;
    this.post({ type: 'work', work: this.lastWork });
  }

  private sendLastAllocation(): void {
    const a = lastAllocation.answers;
    if (a) this.post({ type: 'lastAllocation', answers: { order: a.order, count: a.count, node: a.node, owner: a.owner } });
  }

  /** Cells of the view the map shows now (undefined until it has asked for them). */
  get viewCells(): number | undefined {
    return this.windows.get('map')?.cells;
  }

  notice(text: string, bootGeneration?: number): void {
    this.post({ type: 'notice', text, bootGeneration });
  }

  /** The free list drawn as a chain, for tests and for a webview that loads again. */
  lastChain: ChainData | null = null;

  showChain(chain: ChainData | null): void {
    this.lastChain = chain;
    this.post({ type: 'chain', chain });
  }

  /**
   * Sends the state after a change: the counts (kept by the document, not
   * counted again), the history steps added and dropped, and what changed, so
   * the webview fetches again only the cells it touches.
   */
  sendState(change: ImageChange = everythingChanged(), withHistory = true): void {
    const started = performance.now();
    const doc = this.document;
    const img = doc.viewImage;
    if (!img || !doc.session) return;
    this.version++;
    const i = info(img, doc.totals);
    // A change of very many runs or frames is sent as everything: the webview then fetches its window again (in slices), instead of patches worked out here at once.
    const changedFrames = change.frames.reduce((n, [a, b]) => n + b - a, 0);
    const detailed = !change.all && change.frames.length <= MAX_CHANGE_RUNS && change.sections.length <= MAX_CHANGE_RUNS && changedFrames <= MAX_PATCH_FRAMES;
    const state: MapState = {
      version: this.version,
      image: {
        name: path.basename(doc.uri.fsPath),
        totalFrames: i.totalFrames,
        sectionFrames: img.geometry.sectionFrames,
        maxOrder: i.maxOrder,
        nodes: i.nodes,
        regions: REGION_NAMES.filter((n) => n !== 'data' && i.regions[n].frames > 0).map((n) => ({ label: REGION_LABELS[n], startPfn: i.regions[n].startPfn, frames: i.regions[n].frames })),
      },
      frames: i.frames,
      sections: { never: i.sections.untouched, initialized: i.sections.initialized, stale: i.sections.stale },
      bootGeneration: i.bootGeneration,
      profile: i.profile,
      machine: doc.session.isBooted ? 'running' : i.clean ? 'off' : 'crashed',
      readOnly: doc.readOnlyReason,
      viewedStep: doc.viewedStep,
      history: withHistory ? this.historyNews(this.feed.update(doc.session.image)) : { reset: true, first: 0, last: 0, added: [] },
      change: detailed ? { all: false, frames: change.frames, sections: change.sections } : { all: true, frames: [], sections: [] },
      patches: detailed ? this.patches(img, change) : [],
      memmapPlacement: i.memmap.placement,
      design: i.design,
      ...(img.io.flights.length || i.ioPool ? { io: { descriptors: IO_POOL_DESCRIPTORS, attached: img.io.attached, flights: img.io.flights.map((f) => ({ ...f })) } } : {}),
      animateChanges: vscode.workspace.getConfiguration('pmemExplorer').get<boolean>('map.animateChanges', true),
    };
    this.lastState = state;
    this.changes.add(this.version, state.change);
    this.post({ type: 'state', state });
    this.lastStateMs = performance.now() - started;
  }

  /** Bumped by every state that changes the history (steps added, dropped or replaced): a walk through it stops then. */
  private historyChanges = 0;
  private lastRange = '';

  private historyNews(update: StepsUpdate): StepsUpdate {
    const range = `${update.first}-${update.last}`;
    if (update.reset || update.added.length || range !== this.lastRange) this.historyChanges++;
    this.lastRange = range;
    return update;
  }

  /** The changed cells of the windows the webview shows, when few: it then redraws at once, without asking. */
  private patches(img: NonNullable<PmemDocument['viewImage']>, change: ImageChange): MapState['patches'] {
    const out: MapState['patches'] = [];
    for (const [role, of] of this.windows) {
      const runs = changedCellRuns(of, { all: false, frames: change.frames, sections: change.sections }, img.geometry.sectionFrames);
      for (const run of runs ?? []) {
        const cells: CellsData = mapCells(img, subWindow(of, run));
        out.push({ window: role, of, cells });
      }
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
    this.subscriptions.forEach((s) => s.dispose());
    this.drawnEmitter.dispose();
    this.moveEmitter.dispose();
  }
}

function details(f: ReturnType<typeof frames>[number], noDescriptor: boolean): FrameDetails {
  const { flags, refcount, region, ...rest } = f; // raw descriptor words stay in the host
  return { ...rest, region: region ? REGION_LABELS[region] : undefined, flagNames: flagNames(flags), ...(noDescriptor ? { noDescriptor: true } : {}) };
}
