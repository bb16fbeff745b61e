/**
 * Signals are caught before anything else loads (main.ts installs this first), so a
 * SIGTERM that arrives while the daemon is still starting is not lost: it is held and
 * delivered once a handler is attached.
 */
export type DaemonSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export class SignalLatch {
  readonly #held: DaemonSignal[] = [];
  #handler: ((signal: DaemonSignal) => void) | undefined;
  readonly #listener = (signal: NodeJS.Signals): void => {
    const s = signal as DaemonSignal;
    if (this.#handler) this.#handler(s);
    else this.#held.push(s);
  };

  install(): void {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, this.#listener);
  }

  uninstall(): void {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, this.#listener);
  }

  /** Attaches the real handler and replays what arrived before it. */
  attach(handler: (signal: DaemonSignal) => void): void {
    this.#handler = handler;
    for (const signal of this.#held.splice(0)) handler(signal);
  }
}
