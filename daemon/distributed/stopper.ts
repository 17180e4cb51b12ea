// One deadline-or-abort for a phase of joining: whatever is awaited (a dial, a handshake, a backoff sleep) is cut
// short when it fires, so joining never waits past its deadline.

export class Stopper<E extends Error> {
  reason: E | undefined;
  private readonly hooks = new Set<() => void>();

  stop(reason: E): void {
    if (this.reason) return;
    this.reason = reason;
    for (const h of [...this.hooks]) h();
    this.hooks.clear();
  }

  /** Runs `h` on stop (at once if stopped already); returns the unhook. */
  onStop(h: () => void): () => void {
    if (this.reason) {
      h();
      return () => {};
    }
    this.hooks.add(h);
    return () => this.hooks.delete(h);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        unhook();
        resolve();
      }, ms);
      const unhook = this.onStop(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Stops when `signal` aborts; returns the unhook. */
  follow(signal: AbortSignal | undefined, reason: () => E): () => void {
    if (!signal) return () => {};
    const on = () => this.stop(reason());
    if (signal.aborted) {
      on();
      return () => {};
    }
    signal.addEventListener('abort', on, { once: true });
    return () => signal.removeEventListener('abort', on);
  }
}
