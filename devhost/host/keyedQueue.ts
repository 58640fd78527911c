/** Runs work one item at a time per key (an instance, an entity, a table row), in call order. */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier work of `key` settled; rejects with its error. */
  run(key: string, work: () => Promise<unknown>): Promise<void> {
    const step = async (): Promise<void> => {
      await work();
    };
    const next = (this.tails.get(key) ?? Promise.resolve()).then(step, step);
    this.tails.set(key, next);
    const forget = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
