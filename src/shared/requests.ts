/**
 * Requests one side of a message channel makes of the other (a webview asks
 * the host for cells, the host asks a webview for an export), paired with
 * their answers by id. Each request gets a fresh id; its answer settles it;
 * an answer for an id not pending (late, after a timeout, or of another
 * kind) is dropped; dispose rejects everything still pending. Browser-safe:
 * the webview and the extension host both use it.
 */

/** For each kind of request: what is sent, and what the answer carries. */
export type RequestKinds = Record<string, { request: unknown; response: unknown }>;

export class RequestTimeout extends Error {}
export class RequestsClosed extends Error {}

interface Pending {
  kind: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface RequestOptions<K> {
  /** How long an answer may take; 0 waits for ever. */
  timeoutMs: number;
  /** The error a timed-out request of `kind` rejects with. */
  timeoutError?: (kind: keyof K & string) => Error;
}

export class Requests<K extends RequestKinds> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed?: Error;

  constructor(
    private readonly send: <T extends keyof K & string>(kind: T, id: number, request: K[T]['request']) => void,
    private readonly options: RequestOptions<K>,
  ) {}

  /** Sends a request; settles with its answer, or rejects on timeout, failure or dispose. */
  request<T extends keyof K & string>(kind: T, request: K[T]['request'], timeoutMs = this.options.timeoutMs): Promise<K[T]['response']> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<K[T]['response']>((resolve, reject) => {
      const entry: Pending = { kind, resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          if (this.pending.delete(id)) reject(this.options.timeoutError?.(kind) ?? new RequestTimeout(`no answer to ${kind} request ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      try {
        this.send(kind, id, request);
      } catch (e) {
        this.settle(id, kind)?.reject(e as Error);
      }
    });
  }

  /** Settles request `id` of `kind` with its answer; false (and nothing done) when no such request is pending. */
  answer<T extends keyof K & string>(kind: T, id: number, response: K[T]['response']): boolean {
    const p = this.settle(id, kind);
    p?.resolve(response);
    return !!p;
  }

  /** Rejects request `id` of `kind` (the other side could not answer it); false when no such request is pending. */
  fail(kind: keyof K & string, id: number, error: Error): boolean {
    const p = this.settle(id, kind);
    p?.reject(error);
    return !!p;
  }

  /** Requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Rejects every pending request with `error`, and every later one at once. */
  dispose(error: Error = new RequestsClosed('the channel was closed')): void {
    this.closed = error;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private settle(id: number, kind: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p || p.kind !== kind) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
