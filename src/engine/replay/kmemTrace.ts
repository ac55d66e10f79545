/**
 * The kernel's page-allocator tracepoints (kmem:mm_page_*) read from text, a
 * line at a time, in the three forms kernel engineers record them:
 *
 *   tracefs (cat /sys/kernel/tracing/trace):
 *     kmemprobe-190  [000] .....  6.457850: mm_page_alloc: page=000000006c142600 pfn=0xe837 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP
 *   trace-cmd report:
 *     init-129  [001]  9.482510: mm_page_alloc:  page=0xffffffffb58306ea pfn=0x1afba order=1 migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO
 *   perf script:
 *     perf   127 [001]  6.132327:  kmem:mm_page_alloc: page=0x11e8c pfn=0x11e8c order=0 migratetype=0 gfp_flags=GFP_HIGHUSER|__GFP_ACCOUNT
 *
 * Headers, comments and other events are told apart from lines that are not
 * understood; nothing here holds more than one line.
 */

import { isAscii, utf8Fit } from '../core/bytes';
import { OWNER_BYTES } from '../format/descriptor';

export const KMEM_EVENTS = ['mm_page_alloc', 'mm_page_free', 'mm_page_free_batched', 'mm_page_alloc_zone_locked', 'mm_page_pcpu_drain'] as const;
export type KmemEventName = (typeof KMEM_EVENTS)[number];
export const TRACE_FORMATS = ['ftrace', 'trace-cmd', 'perf'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export interface KmemEvent {
  /** Line number in the trace, from 1. */
  line: number;
  /** Seconds, as the trace prints them. */
  time: number;
  cpu: number;
  event: KmemEventName;
  /** 0 in a failed allocation (the kernel prints pfn=0x0 then). */
  pfn: number;
  order: number;
  migratetype?: number;
  gfpFlags?: string;
}

/** What one line is. */
export type TraceLine =
  | { kind: 'event'; event: KmemEvent; format: TraceFormat }
  | { kind: 'other-event'; name: string; format: TraceFormat }
  | { kind: 'header' }
  | { kind: 'not-understood'; why: string };

// [cpu], then (tracefs) the latency flags, then the timestamp and the event's name.
const EVENT_LINE = /\[(\d{1,4})\]\s+(?:([.a-zA-Z0-9]{4,6})\s+)?(\d+\.\d+):\s+(kmem:)?([a-z_][a-z0-9_]*):\s*(.*)$/;
const HEADER = /^\s*(#|$|cpus=\d+\s*$|version = )/;
/** The value of `key=` in an event's fields (up to the next space), or undefined when it has none. */
function field(text: string, key: string): string | undefined {
  let at = text.indexOf(`${key}=`);
  // A key is a whole word: "order=" must not match inside "xorder=".
  while (at > 0 && text.charCodeAt(at - 1) !== 32) at = text.indexOf(`${key}=`, at + 1);
  if (at < 0) return undefined;
  const from = at + key.length + 1;
  const end = text.indexOf(' ', from);
  return text.slice(from, end < 0 ? text.length : end);
}

/** A pfn as the tracepoints print it (0x or 0X, then hex digits of either case), or decimal digits; undefined past 2^53 - 1. */
function number(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const hex = v.length > 2 && v.charCodeAt(0) === 48 && (v.charCodeAt(1) | 0x20) === 120; // "0x" or "0X"
  const base = hex ? 16 : 10;
  let n = 0;
  for (let i = hex ? 2 : 0; i < v.length; i++) {
    const d = digitValue(v.charCodeAt(i));
    if (d >= base) return undefined;
    n = n * base + d;
    // Exact up to here; past it no later digit can bring it back.
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return n;
}

/** 0-15 for an ASCII hex digit of either case, 99 for any other character. */
function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : 99;
}

/** Reads one line (without its end of line) of a trace; `line` is its number. */
export function parseTraceLine(text: string, line: number): TraceLine {
  if (HEADER.test(text)) return { kind: 'header' };
  const m = EVENT_LINE.exec(text);
  if (!m) return { kind: 'not-understood', why: 'no "[CPU] TIMESTAMP: EVENT:" in it' };
  const format: TraceFormat = m[4] ? 'perf' : m[2] ? 'ftrace' : 'trace-cmd';
  const name = m[5];
  if (!(KMEM_EVENTS as readonly string[]).includes(name)) return { kind: 'other-event', name, format };
  const fields = m[6];
  const pfn = number(field(fields, 'pfn'));
  const order = number(field(fields, 'order'));
  if (pfn === undefined || order === undefined || order > 63) return { kind: 'not-understood', why: `${name} without a valid pfn= and order=` };
  const event: KmemEvent = { line, time: Number(m[3]), cpu: Number(m[1]), event: name as KmemEventName, pfn, order };
  const mt = number(field(fields, 'migratetype'));
  if (mt !== undefined) event.migratetype = mt;
  const gfp = field(fields, 'gfp_flags');
  if (gfp !== undefined) event.gfpFlags = gfp;
  return { kind: 'event', event, format };
}

/** Linux's migrate types, by number (include/linux/mmzone.h, 6.1 without CMA), and the letters /proc/pagetypeinfo uses. */
const MIGRATE_TYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'];
const MIGRATE_LETTERS = ['U', 'M', 'E', 'H', 'I'];

export function migrateTypeName(mt: number | undefined): string {
  return mt === undefined ? '' : (MIGRATE_TYPES[mt] ?? `type ${mt}`);
}

/**
 * The owner tag an allocation gets from its trace: its first GFP flag
 * without "GFP_", a slash, the migrate type's letter ("KERNEL/U",
 * "HIGHUSER_MOVABLE/M"), cut to `bytes` (the descriptor's 16; a two-word
 * allocatee's 8), the flag giving way so that the letter stays.
 */
export function ownerTagOf(e: KmemEvent, bytes = OWNER_BYTES): string {
  const flags = e.gfpFlags ?? '';
  const bar = flags.indexOf('|');
  let flag = bar < 0 ? flags : flags.slice(0, bar);
  if (flag.startsWith('GFP_')) flag = flag.slice(4);
  if (flag.startsWith('__GFP_')) flag = flag.slice(6);
  flag ||= 'trace';
  const letter = e.migratetype === undefined ? '' : `/${MIGRATE_LETTERS[e.migratetype] ?? e.migratetype}`; // ASCII: a byte a character
  const room = Math.max(0, bytes - letter.length);
  // Flags are ASCII in a kernel's trace: characters are bytes.
  if (isAscii(flag)) return (flag.slice(0, room) + letter).slice(0, bytes);
  // Cut in bytes, between characters: a damaged trace's flags may be any text.
  return utf8Fit(utf8Fit(flag, room) + letter, bytes);
}

