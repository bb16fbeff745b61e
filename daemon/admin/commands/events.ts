/**
 * `rollcall events`: the event log, newest last, from a time or the newest --limit; with
 * --follow, new events as they are written until Ctrl-C.
 */
import type { Command } from 'commander';
import { renderEvent } from '../render.js';
import { eventShape } from '../shapes/event.js';
import { readTime } from '../time-input.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { countValue, deviceIdValue } from './option-values.js';
import { ADMIN_EXIT, UsageError } from './output.js';

export function registerEventCommands(program: Command, commands: ClientCommands): void {
  commands.define(program, 'events', 'show the event log (newest last); --follow streams new events until Ctrl-C')
    .option('--follow', 'keep printing new events as they are written')
    .option('--since <time>', 'from this time: 15m, 2h, 3d, today, 2026-11-23, "2026-11-23 10:00"')
    .option('--until <time>', 'before this time (same forms as --since)')
    .option('--user <id>', 'only events about this user')
    .option('--device <id>', 'only events about this device', deviceIdValue)
    .option('--kind <kind>', 'only this kind, or a prefix ending in "." (sync.)')
    .option('--limit <n>', 'most events shown (default 100; with --follow, recent events shown first: default 10)', countValue(10_000))
    .action((options: ClientOptions & { follow?: boolean; since?: string; until?: string; user?: string; device?: number; kind?: string; limit?: number }) =>
      commands.withDaemon(options, async (c, out) => {
        const time = (flag: string, text: string | undefined): number | undefined => {
          if (text === undefined) return undefined;
          const read = readTime(text, commands.io.now());
          if (!read.ok) throw new UsageError(`${flag}: ${read.reason}`);
          return read.ms;
        };
        const sinceMs = time('--since', options.since);
        const untilMs = time('--until', options.until);
        const filter = {
          ...(options.user !== undefined ? { userId: options.user } : {}),
          ...(options.device !== undefined ? { deviceId: options.device } : {}),
          ...(options.kind !== undefined ? { kind: options.kind } : {}),
        };
        if (options.follow) {
          if (untilMs !== undefined) throw new UsageError('--until cannot be combined with --follow');
          const stream = c.stream('FollowEvents', c.client.followEvents, { ...filter, ...(sinceMs !== undefined ? { sinceMs } : {}), backlog: sinceMs === undefined ? (options.limit ?? 10) : 0 });
          await commands.drain(stream, (event) => {
            const json = eventShape.toJson(event);
            out.raw(out.json ? `${JSON.stringify(json)}\n` : `${renderEvent(json)}\n`);
          });
          return ADMIN_EXIT.OK;
        }
        const response = await c.unary('Events', c.client.events, {
          ...filter,
          ...(sinceMs !== undefined ? { sinceMs } : {}),
          ...(untilMs !== undefined ? { untilMs } : {}),
          limit: options.limit ?? 100,
        });
        const json = { events: response.events.map(eventShape.toJson), more: response.more };
        out.result(json, () => {
          if (json.events.length === 0) return 'no events';
          const lines = json.events.map(renderEvent);
          if (json.more) lines.push(sinceMs === undefined ? '(older events match too: use --since or a larger --limit)' : '(more events match: use a larger --limit or a later --since)');
          return lines.join('\n');
        });
        return ADMIN_EXIT.OK;
      }),
    );
}
