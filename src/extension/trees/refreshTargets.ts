/**
 * Which nodes of the Descriptors view a change refreshes, by key: a section
 * whose entry changed (VS Code brings its open pages and frames with it),
 * else the changed frames of pages elsewhere one by one, or their page when
 * many changed. Only nodes the view holds (`kept`) count. No vscode: unit-tested.
 */
import type { ChangeSet } from '../../engine/image/changeSet';

/** Changed frames of one page up to this many are refreshed one by one; more, and the page is. */
export const FRAMES_ONE_BY_ONE = 32;

export const sectionKey = (index: number) => `s:${index}`;
export const pageKey = (first: number, count: number) => `fp:${first}:${count}`;
export const frameKey = (pfn: number) => `f:${pfn}`;

export function descriptorTargets(change: Pick<ChangeSet, 'frames' | 'sections'>, g: { sectionFrames: number; sectionCount: number }, page: number, kept: (key: string) => boolean): string[] {
  const out: string[] = [];
  const whole = new Set<number>();
  for (const s of change.sections) {
    if (!kept(sectionKey(s))) continue;
    out.push(sectionKey(s));
    whole.add(s);
  }
  for (const [a, b] of change.frames) {
    for (let s = Math.floor(a / g.sectionFrames); s * g.sectionFrames < b && s < g.sectionCount; s++) {
      if (whole.has(s)) continue;
      const sectionFirst = s * g.sectionFrames;
      const from = Math.max(a, sectionFirst);
      const to = Math.min(b, sectionFirst + g.sectionFrames);
      for (let offset = Math.floor((from - sectionFirst) / page) * page; sectionFirst + offset < to; offset += page) {
        const key = pageKey(sectionFirst + offset, Math.min(page, g.sectionFrames - offset));
        if (!kept(key)) continue; // never shown: nothing to refresh
        const lo = Math.max(from, sectionFirst + offset);
        const hi = Math.min(to, sectionFirst + offset + page);
        if (hi - lo > FRAMES_ONE_BY_ONE) out.push(key);
        else for (let pfn = lo; pfn < hi; pfn++) if (kept(frameKey(pfn))) out.push(frameKey(pfn));
      }
    }
  }
  return [...new Set(out)];
}
