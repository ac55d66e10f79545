/**
 * The engine's layering, read from the source tree: src/engine is the ground
 * floor (nothing from src/shared, src/extension, src/cli or vscode), only
 * src/engine/node may use Node's own modules (the rest runs in a browser too),
 * and no two engine files depend on each other, directly or through others.
 * src/shared sits on the engine and under the extension, the CLI and the
 * webview, which uses all of it: it may use the browser-safe engine, nothing else.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const ENGINE = path.join(ROOT, 'src/engine');
const NODE_ONLY = path.join(ENGINE, 'node');
const SHARED = path.join(ROOT, 'src/shared');
const ABOVE_ENGINE = ['src/shared', 'src/extension', 'src/cli'].map((d) => path.join(ROOT, d));
const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/**
 * Import cycles known today, each as the exact set of files in it. Each one is
 * tolerated until it is broken; any other cycle, or one of these growing, fails.
 */
const KNOWN_CYCLES: string[][] = [];

export interface ImportRef {
  specifier: string;
  /** True for `import type` / `export type`: erased from the built code. */
  typeOnly: boolean;
}

/** Block comments and whole-line comments, so commented-out imports do not count. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The modules a TypeScript source imports or re-exports, statically or through import() and require(). */
export function importsOf(source: string): ImportRef[] {
  const text = stripComments(source);
  const out: ImportRef[] = [];
  const fromClause = /(?:^|[;}\s])(import|export)(\s+type)?\s+[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(fromClause)) out.push({ specifier: m[3], typeOnly: !!m[2] });
  for (const m of text.matchAll(/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g)) out.push({ specifier: m[1], typeOnly: false });
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ specifier: m[1], typeOnly: false });
  return out;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The file a relative specifier names, as the bundler resolves it (x.ts, x/index.ts); undefined for packages. */
function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return base; // unresolved: still compared against folders below
}

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);
const rel = (file: string) => path.relative(ENGINE, file).split(path.sep).join('/');
const fromRoot = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');
const isNodeModule = (specifier: string) => specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0]);

/**
 * Strongly connected components of more than one file (or a file importing
 * itself): each is one or more cycles. Files within a component are sorted,
 * components by their first file.
 */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One concrete cycle through a component, as a path that returns to its start: a → b → … → a. */
function cyclePath(graph: Map<string, string[]>, component: string[]): string[] {
  const members = new Set(component);
  const start = component[0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const route = [v];
        while (route[0] !== start) route.unshift(parent.get(route[0])!);
        return [...route, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

interface SourceFile {
  file: string;
  imports: Array<ImportRef & { target?: string }>;
}

function parsedFiles(dir: string): SourceFile[] {
  return sourceFiles(dir).map((file) => ({
    file,
    imports: importsOf(fs.readFileSync(file, 'utf8')).map((i) => ({ ...i, target: resolveRelative(file, i.specifier) })),
  }));
}

describe('architecture: the engine is the ground floor', () => {
  describe('the import parser and cycle finder themselves', () => {
    it('finds static, re-exported, type-only, side-effect and dynamic imports, not commented ones', () => {
      const source = [
        "import { a } from './a';",
        'import {',
        '  b,',
        '  c,',
        "} from '../b';",
        "import type { T } from './t';",
        "import * as fs from 'node:fs';",
        "export { x } from './x';",
        "export * from './star';",
        "export type { Y } from './y';",
        "import './side';",
        "const later = () => import('./lazy');",
        "const old = require('path');",
        "// import { no } from './commented';",
        "/* import { no } from './blockComment'; */",
        "const s = 'import nothing from here';",
      ].join('\n');
      assert.deepEqual(importsOf(source), [
        { specifier: './a', typeOnly: false },
        { specifier: '../b', typeOnly: false },
        { specifier: './t', typeOnly: true },
        { specifier: 'node:fs', typeOnly: false },
        { specifier: './x', typeOnly: false },
        { specifier: './star', typeOnly: false },
        { specifier: './y', typeOnly: true },
        { specifier: './side', typeOnly: false },
        { specifier: './lazy', typeOnly: false },
        { specifier: 'path', typeOnly: false },
      ]);
    });

    it('finds every cycle, and none in a graph without one', () => {
      const graph = new Map([
        ['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']], ['f', ['d']],
      ]);
      assert.deepEqual(cyclesOf(graph), [['a', 'b', 'c'], ['e']]);
      assert.deepEqual(cyclePath(graph, ['a', 'b', 'c']), ['a', 'b', 'c', 'a']);
      assert.deepEqual(cyclesOf(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
    });
  });

  const files = parsedFiles(ENGINE);

  it('reads the whole engine', () => {
    // Guards against a path mistake that would make every rule below pass vacuously.
    assert.ok(files.length > 30, `only ${files.length} engine files found under ${ENGINE}`);
    assert.ok(files.some((f) => rel(f.file) === 'image/imageCore.ts'));
    assert.ok(files.reduce((n, f) => n + f.imports.length, 0) > 100);
  });

  it('imports nothing from src/shared, src/extension, src/cli or vscode', () => {
    const bad = files.flatMap((f) =>
      f.imports
        .filter((i) => i.specifier === 'vscode' || i.specifier.startsWith('vscode/') || (i.target && ABOVE_ENGINE.some((d) => inside(i.target!, d))))
        .map((i) => `${rel(f.file)} imports '${i.specifier}'`),
    );
    assert.deepEqual(bad, []);
  });

  it('uses Node modules only under src/engine/node, and the rest does not reach into it', () => {
    const bad = files
      .filter((f) => !inside(f.file, NODE_ONLY))
      .flatMap((f) =>
        f.imports
          .filter((i) => isNodeModule(i.specifier) || (i.target && inside(i.target, NODE_ONLY)))
          .map((i) => `${rel(f.file)} imports '${i.specifier}'`),
      );
    assert.deepEqual(bad, []);
  });

  it('every relative import resolves to a file inside the engine', () => {
    const bad = files.flatMap((f) =>
      f.imports.filter((i) => i.target && (!fs.existsSync(i.target) || !inside(i.target, ENGINE))).map((i) => `${rel(f.file)} imports '${i.specifier}'`),
    );
    assert.deepEqual(bad, []);
  });

  it('has no import cycle but the known ones', () => {
    // Type-only imports count too: they are dependencies of the design even when erased from the build.
    const graph = new Map(files.map((f) => [rel(f.file), [...new Set(f.imports.filter((i) => i.target && inside(i.target, ENGINE)).map((i) => rel(i.target!)))]]));
    const known = new Set(KNOWN_CYCLES.map((c) => [...c].sort().join(' ')));
    const found = cyclesOf(graph);
    const unexpected = found.filter((c) => !known.has(c.join(' '))).map((c) => cyclePath(graph, c).join(' → '));
    assert.deepEqual(unexpected, [], `new import cycles among src/engine files:\n  ${unexpected.join('\n  ')}`);
    const gone = [...known].filter((k) => !found.some((c) => c.join(' ') === k));
    assert.deepEqual(gone, [], 'a known cycle is broken: remove it from KNOWN_CYCLES');
  });
});

describe('architecture: src/shared sits on the engine', () => {
  const files = parsedFiles(SHARED);

  it('imports only itself and the browser-safe engine: no Node module, vscode, extension or CLI', () => {
    assert.ok(files.length > 3, `only ${files.length} files found under ${SHARED}`);
    const bad = files.flatMap((f) =>
      f.imports
        .filter((i) => !i.target || !(inside(i.target, SHARED) || inside(i.target, ENGINE)) || inside(i.target, NODE_ONLY) || !fs.existsSync(i.target))
        .map((i) => `${fromRoot(f.file)} imports '${i.specifier}'`),
    );
    assert.deepEqual(bad, []);
  });

  it('takes the map codes from the engine, the one file that exports them', () => {
    const raster = files.find((f) => fromRoot(f.file) === 'src/shared/mapRaster.ts');
    assert.ok(raster, 'src/shared/mapRaster.ts is missing');
    assert.ok(raster.imports.some((i) => i.target === path.join(ENGINE, 'inspect/mapCodes.ts')), 'mapRaster.ts does not import inspect/mapCodes.ts');
    // Defined or re-exported: a second path to them is one more import to keep in step.
    const codes = '(MIX_STRIDE|OWNER_TAG|MIX_CHANNELS|DETAIL_FRAMES_PER_CELL)';
    const exporting = new RegExp(`\\bexport\\s+const\\s+${codes}\\b|\\bexport\\s*(type\\s*)?\\{[^}]*\\b${codes}\\b[^}]*\\}`);
    const exporters = [...parsedFiles(ENGINE), ...files].filter((f) => exporting.test(stripComments(fs.readFileSync(f.file, 'utf8')))).map((f) => fromRoot(f.file));
    assert.deepEqual(exporters, ['src/engine/inspect/mapCodes.ts']);
  });
});
