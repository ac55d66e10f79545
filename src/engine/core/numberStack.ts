/**
 * A stack of numbers in a typed array that keeps its buffer when emptied:
 * for lists filled and emptied once per operation, where an array's
 * `length = 0` would give its storage back every time.
 */
export class NumberStack {
  private items = new Float64Array(64);
  length = 0;

  push(value: number): void {
    if (this.length === this.items.length) {
      const bigger = new Float64Array(this.items.length * 2);
      bigger.set(this.items);
      this.items = bigger;
    }
    this.items[this.length++] = value;
  }

  at(index: number): number {
    return this.items[index];
  }

  clear(): void {
    this.length = 0;
  }
}
