/**
 * Progress of long operations (import, export, verify) on a terminal: a bar per phase when
 * the total is known, a running count when it is not. Off when the output is not a terminal
 * or --json was given, so scripts and logs never see it.
 */
import cliProgress from 'cli-progress';
import { bytes } from './format.js';

export interface ProgressUpdate {
  phase: string;
  done: number;
  /** 0 when unknown. */
  total: number;
  unit: string;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

function amount(n: number, unit: string): string {
  if (unit === 'bytes') return bytes(n);
  return `${n.toLocaleString('en-US')} ${n === 1 && unit.endsWith('s') ? unit.slice(0, -1) : unit}`;
}

export class ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #enabled: boolean;
  #bar: cliProgress.SingleBar | undefined;
  #phase: string | undefined;
  #counting = false;

  constructor(stream: ProgressStream, enabled: boolean) {
    this.#stream = stream;
    this.#enabled = enabled && stream.isTTY === true;
  }

  update(progress: ProgressUpdate): void {
    if (!this.#enabled) return;
    if (progress.phase !== this.#phase) {
      this.stop();
      this.#phase = progress.phase;
    }
    const payload = { phase: progress.phase.padEnd(8), amount: `${amount(progress.done, progress.unit)}${progress.total > 0 ? ` / ${amount(progress.total, progress.unit)}` : ''}` };
    if (progress.total > 0) {
      if (!this.#bar) {
        this.#bar = new cliProgress.SingleBar(
          {
            stream: this.#stream as NodeJS.WritableStream,
            format: '{phase} [{bar}] {percentage}% | {amount}',
            hideCursor: true,
            clearOnComplete: false,
            noTTYOutput: false,
            barsize: 30,
          },
          cliProgress.Presets.shades_classic,
        );
        this.#bar.start(progress.total, 0, payload);
      }
      this.#bar.setTotal(progress.total);
      this.#bar.update(Math.min(progress.done, progress.total), payload);
      return;
    }
    this.#counting = true;
    this.#stream.write(`\r${payload.phase} ${payload.amount}\u001b[K`);
  }

  stop(): void {
    if (this.#bar) {
      this.#bar.stop();
      this.#bar = undefined;
    }
    if (this.#counting) {
      this.#stream.write('\n');
      this.#counting = false;
    }
  }
}
