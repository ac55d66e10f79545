/**
 * The allocations and frees of a trace as its first reading found them, in
 * typed arrays (22 bytes an event, owners interned), so the replay applies
 * them without reading the trace's text a second time. Past a bound it lets
 * go of what it held, and the replay reads the text again.
 */

export type TracedKind = 'alloc' | 'free';

const FIRST_CAPACITY = 1024;

export class TraceEvents {
  private kinds = new Uint8Array(FIRST_CAPACITY);
  private orders = new Uint8Array(FIRST_CAPACITY);
  private pfns = new Float64Array(FIRST_CAPACITY);
  private lines = new Float64Array(FIRST_CAPACITY);
  private ownerIndex = new Uint32Array(FIRST_CAPACITY);
  private readonly owners: string[] = [];
  private readonly ownerIndexOf = new Map<string, number>();
  private count = 0;
  /** False once more events came than `most`: nothing is held then. */
  complete = true;

  constructor(private readonly most: number) {}

  get length(): number {
    return this.count;
  }

  /** Adds an event; `owner` is an allocation's tag ('' for a free). */
  push(kind: TracedKind, pfn: number, order: number, line: number, owner: string): void {
    if (!this.complete) return;
    if (this.count === this.most) {
      this.letGo();
      return;
    }
    if (this.count === this.kinds.length) this.grow(Math.min(this.most, this.count * 2));
    let o = this.ownerIndexOf.get(owner);
    if (o === undefined) this.ownerIndexOf.set(owner, (o = this.owners.push(owner) - 1));
    const i = this.count++;
    this.kinds[i] = kind === 'alloc' ? 0 : 1;
    this.orders[i] = order;
    this.pfns[i] = pfn;
    this.lines[i] = line;
    this.ownerIndex[i] = o;
  }

  kind(i: number): TracedKind {
    return this.kinds[i] === 0 ? 'alloc' : 'free';
  }

  pfn(i: number): number {
    return this.pfns[i];
  }

  order(i: number): number {
    return this.orders[i];
  }

  line(i: number): number {
    return this.lines[i];
  }

  owner(i: number): string {
    return this.owners[this.ownerIndex[i]];
  }

  private grow(capacity: number): void {
    const grown = <T extends Uint8Array | Float64Array | Uint32Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(capacity);
      b.set(a);
      return b;
    };
    this.kinds = grown(this.kinds, Uint8Array);
    this.orders = grown(this.orders, Uint8Array);
    this.pfns = grown(this.pfns, Float64Array);
    this.lines = grown(this.lines, Float64Array);
    this.ownerIndex = grown(this.ownerIndex, Uint32Array);
  }

  private letGo(): void {
    this.complete = false;
    this.count = 0;
    this.kinds = new Uint8Array(0);
    this.orders = new Uint8Array(0);
    this.pfns = new Float64Array(0);
    this.lines = new Float64Array(0);
    this.ownerIndex = new Uint32Array(0);
    this.owners.length = 0;
    this.ownerIndexOf.clear();
  }
}
