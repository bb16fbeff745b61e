/** Users and a plugin context shared by the gsdk transport tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { emptyUser, type User } from '../../../../daemon/model/user.js';
import { Metrics } from '../../../../daemon/obs/metrics.js';
import type { PluginContext } from '../../../../daemon/plugins/api.js';

/** `size` bytes starting with `first` (the simulator reads a finger template's first byte as its format). */
export function b64(size: number, first = 0, fill = 0x5a): string {
  const bytes = Buffer.alloc(size, fill);
  bytes[0] = first;
  return bytes.toString('base64');
}

/** A user with every device field set. */
export function fullUser(id: string): User {
  return {
    ...emptyUser(id),
    name: `User ${id} Ünïcode`,
    disabled: false,
    startTime: 1_700_000_000,
    endTime: 1_900_000_000,
    auth: { biometric: 0, card: 3, id: 8, faceExt: 11, fingerExt: 16, cardExt: 21, idExt: 36 },
    securityLevel: 3,
    cards: [
      { type: 1, data: b64(4, 0x12, 0x34) },
      { type: 6, data: Buffer.from('QR-CODE-123').toString('base64') },
    ],
    fingers: [
      { index: 0, flag: 0, templates: [b64(384, 0, 1), b64(300, 0, 2)] },
      { index: 1, flag: 1, templates: [b64(200, 0, 3), b64(201, 0, 4)] },
    ],
    faces: [{ index: 0, flag: 0, templates: [b64(512, 7, 5)], imageData: b64(1024, 0xff, 6) }],
    accessGroups: [3, 1, 2],
    jobCodes: [{ code: 7, label: 'Night shift' }],
    pinHash: b64(32, 9, 9),
    photo: b64(2048, 0xd8, 7),
  };
}

export interface TestContext {
  ctx: PluginContext;
  metrics: Metrics;
  abort: AbortController;
  dispose(): Promise<void>;
}

export async function testContext(): Promise<TestContext> {
  const dataDir = await mkdtemp(join(tmpdir(), 'rollcall-gsdk-'));
  const metrics = new Metrics();
  const abort = new AbortController();
  const ctx: PluginContext = {
    logger: pino({ level: 'silent' }),
    metrics,
    signal: abort.signal,
    dataDir,
    lookup: () => undefined,
  };
  return {
    ctx,
    metrics,
    abort,
    dispose: async () => {
      abort.abort();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The value of a counter series, 0 when it does not exist. */
export async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return match?.value ?? 0;
}
