// Times the map's full redraw in Chromium (the browser the editor runs in here):
// 1,048,576 single-frame cells coloured and drawn, as after any change to a
// zoomed-in full-viewport view; prints medians against one 60 Hz frame.
import * as esbuild from 'esbuild';
import os from 'node:os';
import { launchChromium } from '../scripts/code-server-host.mjs';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const { outputFiles } = await esbuild.build({ entryPoints: [new URL('./mapDraw.page.ts', import.meta.url).pathname], bundle: true, write: false, format: 'iife', target: 'es2022' });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1200 } });
  await page.setContent('<!DOCTYPE html><html><body style="margin:0"></body></html>');
  await page.addScriptTag({ content: outputFiles[0].text });
  console.log(`map redraw in Chromium (${(await browser.version())}), ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  for (const [columns, rows, cellPx, what] of [[1024, 1024, 1, 'zoomed-in full viewport: 1,048,576 frames at 1 px'], [512, 256, 4, '131,072 frames at 4 px'], [1024, 512, 1, 'whole-device view: 524,288 cells']]) {
    const { times, parts } = await page.evaluate(([c, r, p]) => globalThis.mapDrawBench(c, r, p, 15), [columns, rows, cellPx]);
    const m = median(times);
    const split = Object.entries(parts).map(([k, v]) => `${k} ${median(v).toFixed(2)}`).join(', ');
    console.log(`${what}: median ${m.toFixed(2)} ms over ${times.length} redraws (${split} ms) = ${(m / (1000 / 60)).toFixed(2)}× of one 60 Hz frame (16.7 ms)`);
  }
} finally {
  await browser.close();
}
