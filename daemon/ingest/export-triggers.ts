/**
 * Scheduled exports: one timer per configured schedule (schedule.ts says when). A run
 * that is still going when its next time comes is not started twice; the time is skipped.
 */
import type { Logger } from 'pino';
import { nextFire, parseSchedule, type ExportSchedule } from './schedule.js';

export interface ExportTrigger {
  /** The watcher format to export ('csv', 'datafile'). */
  format: string;
  /** `watchers.csv.export.schedule` (interval, HH:MM or cron) or `watchers.datafile.export.schedule` (HH:MM list). */
  schedule: string | readonly string[];
  /** Folder to write to; default the spool's outgoing/. */
  dir?: string;
}

/**
 * The schedules in the watchers' configs, by the convention both built-in watchers follow:
 * `watchers.<name>.export.schedule` (a string, or a list of HH:MM times) and, optionally,
 * `watchers.<name>.export.dir`. A watcher without them has no scheduled export.
 */
export function exportTriggersFrom(watchers: readonly { format: string; config: unknown }[]): ExportTrigger[] {
  const triggers: ExportTrigger[] = [];
  for (const { format, config } of watchers) {
    const exportConfig = (config as { export?: { schedule?: unknown; dir?: unknown } } | undefined)?.export;
    const schedule = exportConfig?.schedule;
    const isList = Array.isArray(schedule) && schedule.every((time) => typeof time === 'string');
    if (!(typeof schedule === 'string' && schedule.trim() !== '') && !(isList && schedule.length > 0)) continue;
    const dir = exportConfig?.dir;
    triggers.push({ format, schedule: schedule as string | string[], ...(typeof dir === 'string' ? { dir } : {}) });
  }
  return triggers;
}

/** setTimeout's longest delay (about 24.8 days); a later time is reached in steps. */
const MAX_DELAY = 2 ** 31 - 1;

interface Armed {
  trigger: ExportTrigger;
  schedule: ExportSchedule;
  at: Date;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

export class ExportTriggers {
  readonly #run: (trigger: ExportTrigger) => Promise<void>;
  readonly #logger: Logger;
  #armed: Armed[] = [];
  #stopped = true;
  /** Schedules that could not be read, for health(). */
  problems: string[] = [];

  constructor(options: { run: (trigger: ExportTrigger) => Promise<void>; logger: Logger }) {
    this.#run = options.run;
    this.#logger = options.logger;
  }

  /** Replaces the schedules (start, and reload). A run under way finishes. */
  set(triggers: readonly ExportTrigger[]): void {
    this.#clear();
    this.#stopped = false;
    this.problems = [];
    for (const trigger of triggers) {
      const empty = typeof trigger.schedule === 'string' ? trigger.schedule.trim() === '' : trigger.schedule.length === 0;
      if (empty) continue;
      let schedule: ExportSchedule;
      try {
        schedule = parseSchedule(trigger.schedule);
      } catch (error) {
        const problem = `${trigger.format} export schedule: ${(error as Error).message}`;
        this.problems.push(problem);
        this.#logger.error({ format: trigger.format }, `${problem}; no scheduled ${trigger.format} export`);
        continue;
      }
      const armed: Armed = { trigger, schedule, at: new Date(0), timer: undefined, running: undefined };
      this.#armed.push(armed);
      this.#arm(armed, new Date());
    }
  }

  /** When each schedule fires next, for status and tests. */
  next(): { format: string; at: Date }[] {
    return this.#armed.map((armed) => ({ format: armed.trigger.format, at: armed.at }));
  }

  /** Clears the timers and waits for runs under way (the caller aborts them first). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const running = this.#armed.map((armed) => armed.running);
    this.#clear();
    await Promise.all(running);
  }

  #clear(): void {
    for (const armed of this.#armed) clearTimeout(armed.timer);
    this.#armed = [];
  }

  #arm(armed: Armed, now: Date): void {
    const at = nextFire(armed.schedule, now);
    if (at === undefined) return;
    armed.at = at;
    this.#wait(armed);
  }

  #wait(armed: Armed): void {
    const delay = Math.min(MAX_DELAY, Math.max(0, armed.at.getTime() - Date.now()));
    armed.timer = setTimeout(() => this.#fire(armed), delay);
  }

  #fire(armed: Armed): void {
    armed.timer = undefined;
    if (this.#stopped || !this.#armed.includes(armed)) return;
    // A timer may fire early (a long wait in steps, or a clock set back): wait on.
    if (Date.now() < armed.at.getTime()) return this.#wait(armed);
    if (armed.running) {
      this.#logger.warn({ format: armed.trigger.format }, 'scheduled export skipped: the previous one is still running');
    } else {
      armed.running = this.#run(armed.trigger)
        .catch(() => undefined)
        .finally(() => {
          armed.running = undefined;
        });
    }
    this.#arm(armed, new Date());
  }
}
