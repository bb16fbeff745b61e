/**
 * A CPU profile of one window of the benchmark's own process (the measured side's clock), for
 * finding where the engine spends its time: `BENCH_PROFILE_DIR=/tmp/prof` writes one
 * `.cpuprofile` per window (open it in Chrome's DevTools). Without the variable it does nothing,
 * so a recorded run is never profiled.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export interface ProfileWindow {
  stop(): Promise<void>;
}

export async function profileWindow(name: string): Promise<ProfileWindow> {
  const dir = process.env['BENCH_PROFILE_DIR'];
  if (dir === undefined || dir === '') return { stop: async () => {} };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.cpuprofile`), JSON.stringify(profile));
    },
  };
}
