/**
 * Measures the simulator's memory per stored user and its call rates, over real gRPC on
 * loopback. Run after a build:
 *
 *   node dist/simulator/measure.js [--devices 100] [--users 100000] [--batch 1000]
 *                                  [--unshared-devices 10] [--fingers 0] [--heap-mb 12000]
 *
 * It re-runs itself with --expose-gc and a larger heap. Figures go to stdout as a table
 * (and as JSON with --json). The results are recorded in simulator/README.md.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { UserClient, UserInfo } from '../proto/gen/gsdk/user.js';
import { TemplateFormat } from '../proto/gen/gsdk/finger.js';
import { csnCardFromDecimal, simulatedFinger } from './conventions.js';
import { startSimulator, type RunningSimulator } from './server.js';

interface Options {
  devices: number;
  users: number;
  batch: number;
  unsharedDevices: number;
  fingers: number;
  heapMb: number;
  json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '100' },
      users: { type: 'string', default: '100000' },
      batch: { type: 'string', default: '1000' },
      'unshared-devices': { type: 'string', default: '10' },
      fingers: { type: 'string', default: '0' },
      'heap-mb': { type: 'string', default: '12000' },
      json: { type: 'boolean', default: false },
    },
  });
  return {
    devices: Number(values.devices),
    users: Number(values.users),
    batch: Number(values.batch),
    unsharedDevices: Number(values['unshared-devices']),
    fingers: Number(values.fingers),
    heapMb: Number(values['heap-mb']),
    json: values.json === true,
  };
}

type Gc = () => void;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function memory(): { heap: number; rss: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external + usage.arrayBuffers, rss: usage.rss };
}

/** A user as a site would hold it: name, one CSN card, a PIN hash, and optionally fingers. */
function siteUser(n: number, fingers: number, tag = ''): UserInfo {
  return UserInfo.fromPartial({
    hdr: { ID: String(n) },
    name: `User ${n}${tag}`,
    cards: [csnCardFromDecimal(String(1_000_000 + n))],
    fingers: Array.from({ length: fingers }, (_, i) => simulatedFinger(TemplateFormat.SUPREMA, n * 10 + i)),
    accessGroupIDs: [1],
    PIN: Buffer.alloc(32, n & 0xff),
  });
}

function unary<Req, Res>(client: UserClient, method: 'enroll' | 'enrollMulti' | 'get', request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as (r: Req, cb: (e: ServiceError | null, v: Res) => void) => void;
    fn.call(client, request, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Runs `count` calls with `parallel` in flight; returns calls per second. */
async function rate(count: number, parallel: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        await call(i);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

interface Figures {
  options: Options;
  shared: { records: number; seconds: number; recordsPerSecond: number; heapBytesPerRecord: number; rssBytesPerRecord: number; distinctRecords: number };
  unshared: { records: number; heapBytesPerRecord: number; rssBytesPerRecord: number };
  encodedUserBytes: number;
  rates: Record<string, { callsPerSecond: number; usersPerSecond: number }>;
}

async function withSimulator<T>(devices: number, use: (sim: RunningSimulator, client: UserClient) => Promise<T>): Promise<T> {
  const sim = await startSimulator({ devices: Array.from({ length: devices }, (_, i) => ({ id: 1001 + i, maxUsers: 10_000_000 })) });
  const client = new UserClient(sim.address, credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
  try {
    return await use(sim, client);
  } finally {
    client.close();
    await sim.stop();
  }
}

async function measureShared(o: Options): Promise<Figures['shared']> {
  return withSimulator(o.devices, async (sim, client) => {
    const deviceIDs = sim.deviceIds;
    const before = memory();
    const started = performance.now();
    for (let first = 1; first <= o.users; first += o.batch) {
      const users = Array.from({ length: Math.min(o.batch, o.users - first + 1) }, (_, i) => siteUser(first + i, o.fingers));
      await unary(client, 'enrollMulti', { deviceIDs, users, overwrite: true });
    }
    const seconds = (performance.now() - started) / 1000;
    const after = memory();
    const records = o.devices * o.users;
    return {
      records,
      seconds,
      recordsPerSecond: records / seconds,
      heapBytesPerRecord: (after.heap - before.heap) / records,
      rssBytesPerRecord: (after.rss - before.rss) / records,
      distinctRecords: sim.stats().sharedUserRecords,
    };
  });
}

async function measureUnshared(o: Options): Promise<Figures['unshared']> {
  return withSimulator(o.unsharedDevices, async (sim, client) => {
    const before = memory();
    for (const deviceID of sim.deviceIds) {
      for (let first = 1; first <= o.users; first += o.batch) {
        const users = Array.from({ length: Math.min(o.batch, o.users - first + 1) }, (_, i) => siteUser(first + i, o.fingers, ` @${deviceID}`));
        await unary(client, 'enroll', { deviceID, users, overwrite: true });
      }
    }
    const after = memory();
    const records = o.unsharedDevices * o.users;
    return { records, heapBytesPerRecord: (after.heap - before.heap) / records, rssBytesPerRecord: (after.rss - before.rss) / records };
  });
}

async function measureRates(o: Options): Promise<Figures['rates']> {
  const calls = 4000;
  const parallel = 16;
  const multiDevices = Math.min(10, o.devices);
  return withSimulator(multiDevices, async (sim, client) => {
    const deviceIDs = sim.deviceIds;
    const first = deviceIDs[0] ?? 1001;
    const rates: Figures['rates'] = {};
    const enroll1 = await rate(calls, parallel, (i) => unary(client, 'enroll', { deviceID: first, users: [siteUser(i + 1, o.fingers)], overwrite: true }));
    rates['Enroll, 1 user'] = { callsPerSecond: enroll1, usersPerSecond: enroll1 };
    const enroll100 = await rate(calls / 20, parallel, (i) =>
      unary(client, 'enroll', { deviceID: first, users: Array.from({ length: 100 }, (_, k) => siteUser(i * 100 + k + 1, o.fingers)), overwrite: true }),
    );
    rates['Enroll, 100 users'] = { callsPerSecond: enroll100, usersPerSecond: enroll100 * 100 };
    const multi1 = await rate(calls, parallel, (i) => unary(client, 'enrollMulti', { deviceIDs, users: [siteUser(i + 1, o.fingers)], overwrite: true }));
    rates[`EnrollMulti, 1 user x ${multiDevices} devices`] = { callsPerSecond: multi1, usersPerSecond: multi1 * multiDevices };
    const multi100 = await rate(calls / 20, parallel, (i) =>
      unary(client, 'enrollMulti', { deviceIDs, users: Array.from({ length: 100 }, (_, k) => siteUser(i * 100 + k + 1, o.fingers)), overwrite: true }),
    );
    rates[`EnrollMulti, 100 users x ${multiDevices} devices`] = { callsPerSecond: multi100, usersPerSecond: multi100 * 100 * multiDevices };
    const get1 = await rate(calls, parallel, (i) => unary(client, 'get', { deviceID: first, userIDs: [String((i % calls) + 1)] }));
    rates['Get, 1 user'] = { callsPerSecond: get1, usersPerSecond: get1 };
    const get100 = await rate(calls / 10, parallel, (i) =>
      unary(client, 'get', { deviceID: first, userIDs: Array.from({ length: 100 }, (_, k) => String(((i * 100 + k) % calls) + 1)) }),
    );
    rates['Get, 100 users'] = { callsPerSecond: get100, usersPerSecond: get100 * 100 };
    return rates;
  });
}

function table(f: Figures): string {
  const n = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [
    `node ${process.version}, ${f.options.devices} devices x ${f.options.users} users, batch ${f.options.batch}, fingers/user ${f.options.fingers}, encoded user ${f.encodedUserBytes} B`,
    '',
    `shared content (EnrollMulti to every device): ${n(f.shared.records)} user-device records, ${n(f.shared.distinctRecords)} distinct`,
    `  enrolled in ${n(f.shared.seconds, 1)} s = ${n(f.shared.recordsPerSecond)} records/s`,
    `  heap ${n(f.shared.heapBytesPerRecord, 1)} B/record, RSS ${n(f.shared.rssBytesPerRecord, 1)} B/record`,
    `distinct content (Enroll per device, ${f.options.unsharedDevices} devices): ${n(f.unshared.records)} records`,
    `  heap ${n(f.unshared.heapBytesPerRecord, 1)} B/record, RSS ${n(f.unshared.rssBytesPerRecord, 1)} B/record`,
    '',
    'call rates (16 calls in flight, loopback):',
    ...Object.entries(f.rates).map(([name, r]) => `  ${name.padEnd(36)} ${n(r.callsPerSecond).padStart(8)} calls/s  ${n(r.usersPerSecond).padStart(10)} users/s`),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const o = options();
  if (!(globalThis as { gc?: Gc }).gc) {
    const self = fileURLToPath(import.meta.url);
    const result = spawnSync(process.execPath, ['--expose-gc', `--max-old-space-size=${o.heapMb}`, self, ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
    return;
  }
  const encodedUserBytes = UserInfo.encode(siteUser(12345, o.fingers)).finish().length;
  const rates = await measureRates(o);
  const unshared = await measureUnshared(o);
  const shared = await measureShared(o);
  const figures: Figures = { options: o, shared, unshared, encodedUserBytes, rates };
  process.stdout.write(o.json ? `${JSON.stringify(figures, null, 2)}\n` : table(figures));
}

await main();
