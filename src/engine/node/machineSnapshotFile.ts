/** A real machine's free-memory snapshot read from a file, for `pmem frag --beside` and Compare Fragmentation. */
import * as fs from 'node:fs';
import { MachineSnapshot, parseMachineSnapshot } from '../inspect/frag';

/** The largest snapshot file read: /proc files are kilobytes, a kmem -f of a large machine some megabytes. */
export const MAX_SNAPSHOT_BYTES = 64 * 2 ** 20;

/** The snapshot in `file`, or why it is none (`name`: how the file is named in that reason). */
export function readMachineSnapshotFile(file: string, name = file): MachineSnapshot | { why: string } {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return { why: `${name} is not a file` };
    if (st.size > MAX_SNAPSHOT_BYTES) return { why: `${name} is larger than any snapshot of free memory (64 MiB)` };
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { why: `cannot read ${name}: ${(e as Error).message}` };
  }
  return parseMachineSnapshot(text) ?? { why: `${name} is not /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo or crash's kmem -f output (no "Node N, zone NAME" line of theirs in it, nor kmem -f's ZONE and AREA tables)` };
}
