/**
 * Run several sources ahead at once and hand their items out in source order: the child partitions
 * of up to `concurrency` parents fetch their pages in parallel, while checkpoints are still applied
 * one page after another, in order. Each source buffers at most `buffer` items (back-pressure), so
 * memory stays bounded; an error surfaces when the consumer reaches the source that raised it, so
 * everything before it is handed out (and checkpointed) first, exactly as in a sequential read.
 */

/** A bounded single-producer, single-consumer channel. */
class Channel<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failed: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity: number) {}

  /** Add an item, waiting while the buffer is full; false once the consumer has gone. */
  async push(item: T): Promise<boolean> {
    while (this.items.length >= this.capacity && !this.closed) await new Promise<void>((r) => (this.wakeProducer = r));
    if (this.closed) return false;
    this.items.push(item);
    this.wakeConsumer?.();
    return true;
  }

  /** No more items (with the error that ended the source, if any). */
  close(error?: { error: unknown }): void {
    this.closed = true;
    if (error) this.failed = error;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  /** The next item, or done; throws the source's error once its items are drained. */
  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.items.length) {
        const value = this.items.shift()!;
        this.wakeProducer?.();
        return { value, done: false };
      }
      if (this.failed) throw this.failed.error;
      if (this.closed) return { value: undefined, done: true };
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }
}

/**
 * Items of every source, source after source, with up to `ahead` sources running at once.
 * Breaking out of the loop stops the sources (each ends after its current item).
 */
export async function* inOrder<T>(sources: AsyncIterable<() => AsyncIterable<T>>, ahead: number, buffer: number): AsyncGenerator<T> {
  const active: Channel<T>[] = [];
  const it = sources[Symbol.asyncIterator]();
  let exhausted = false;
  let stopped = false;
  const pump = async (source: () => AsyncIterable<T>, ch: Channel<T>): Promise<void> => {
    try {
      for await (const item of source()) {
        if (stopped || !(await ch.push(item))) break;
      }
      ch.close();
    } catch (error) {
      ch.close({ error });
    }
  };
  const fill = async (): Promise<void> => {
    while (!exhausted && active.length < Math.max(1, ahead)) {
      const r = await it.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      const ch = new Channel<T>(Math.max(1, buffer));
      active.push(ch);
      void pump(r.value, ch);
    }
  };
  try {
    await fill();
    while (active.length) {
      const ch = active[0]!;
      for (let r = await ch.next(); !r.done; r = await ch.next()) yield r.value;
      active.shift();
      await fill();
    }
  } finally {
    stopped = true;
    for (const ch of active) ch.close();
    if (!exhausted) await it.return?.();
  }
}
