/**
 * A G-SDK client for conformance tests that shares no code with the simulator: it loads our
 * .proto files with @grpc/proto-loader (as a third-party client would) and decodes the
 * status-details trailer by hand from the protobuf wire format.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

const definition = protoLoader.loadSync(
  ['gsdk/user.proto', 'gsdk/connect.proto', 'gsdk/event.proto', 'gsdk/device.proto', 'gsdk/system.proto', 'gsdk/finger.proto', 'gsdk/face.proto', 'rollcall/sim/v1/sim.proto'],
  { keepCase: true, longs: Number, enums: Number, defaults: true, includeDirs: [PROTO_ROOT] },
);
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  gsdk: Record<string, Record<string, grpc.ServiceClientConstructor>>;
  rollcall: { sim: { v1: Record<string, grpc.ServiceClientConstructor> } };
};

/** Method paths as the official V1.8 clients use them. */
export function methodPath(service: 'user' | 'connect' | 'event' | 'device' | 'system', method: string): string {
  const name = { user: 'User', connect: 'Connect', event: 'Event', device: 'Device', system: 'System' }[service];
  const ctor = loaded.gsdk[service]?.[name];
  const path = (ctor?.service as grpc.ServiceDefinition | undefined)?.[method]?.path;
  if (!path) throw new Error(`no method ${service}.${method}`);
  return path;
}

export interface Clients {
  user: grpc.Client;
  connect: grpc.Client;
  event: grpc.Client;
  device: grpc.Client;
  system: grpc.Client;
  finger: grpc.Client;
  face: grpc.Client;
  control: grpc.Client;
  close(): void;
}

export function connectClients(address: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure()): Clients {
  const make = (ctor: grpc.ServiceClientConstructor | undefined): grpc.Client => {
    if (!ctor) throw new Error('service missing from the protos');
    return new ctor(address, creds);
  };
  const clients = {
    user: make(loaded.gsdk.user?.User),
    connect: make(loaded.gsdk.connect?.Connect),
    event: make(loaded.gsdk.event?.Event),
    device: make(loaded.gsdk.device?.Device),
    system: make(loaded.gsdk.system?.System),
    finger: make(loaded.gsdk.finger?.Finger),
    face: make(loaded.gsdk.face?.Face),
    control: make(loaded.rollcall.sim.v1.Control),
  };
  return {
    ...clients,
    close: () => Object.values(clients).forEach((c) => c.close()),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** A unary call as a promise; `deadlineMs` sets a deadline (default 10 s). */
export function unary<T = Loose>(client: grpc.Client, method: string, request: object, deadlineMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method];
    if (typeof fn !== 'function') throw new Error(`no method ${method}`);
    fn.call(client, request, { deadline: new Date(Date.now() + deadlineMs) }, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** The error a call failed with; fails the test if it succeeded. */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Opens a server stream and resolves once the server has registered it (response headers). */
export async function openStream(client: grpc.Client, method: string, request: object): Promise<grpc.ClientReadableStream<Loose>> {
  const fn = (client as unknown as Record<string, Function>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  const stream = fn.call(client, request) as grpc.ClientReadableStream<Loose>;
  await new Promise<void>((resolve, reject) => {
    stream.once('metadata', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

/** Reads `count` messages from a stream (in flowing mode). */
export function take<T = Loose>(stream: grpc.ClientReadableStream<T>, count: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    if (count === 0) {
      resolve(got);
      return;
    }
    const onData = (message: T): void => {
      got.push(message);
      if (got.length === count) {
        stream.off('data', onData);
        stream.off('error', reject);
        stream.pause();
        resolve(got);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.resume();
  });
}

/** Cancels a stream and waits for its end (CANCELLED is the expected end). */
export function cancel(stream: grpc.ClientReadableStream<unknown>): Promise<void> {
  return new Promise((resolve) => {
    stream.on('error', () => resolve());
    stream.on('end', () => resolve());
    stream.on('data', () => undefined);
    stream.cancel();
  });
}

// ---- hand-written protobuf wire decoding (for the status-details trailer)

interface WireField {
  no: number;
  wire: number;
  varint?: number;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    const byte = buf[i];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    scale *= 128;
    i += 1;
    if ((byte & 0x80) === 0) return [value, i];
  }
}

export function wireFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const [value, after] = readVarint(buf, at);
      fields.push({ no, wire, varint: value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buf, at);
      fields.push({ no, wire, bytes: buf.subarray(after, after + length) });
      at = after + length;
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return fields;
}

export interface DecodedStatus {
  code: number;
  message: string;
  details: { typeUrl: string; value: Buffer }[];
}

export interface DeviceError {
  deviceID: number;
  code: number;
  msg: string;
}

export function decodeStatus(buf: Buffer): DecodedStatus {
  const result: DecodedStatus = { code: 0, message: '', details: [] };
  for (const f of wireFields(buf)) {
    if (f.no === 1) result.code = f.varint ?? 0;
    if (f.no === 2) result.message = f.bytes?.toString('utf8') ?? '';
    if (f.no === 3 && f.bytes) {
      let typeUrl = '';
      let value: Buffer = Buffer.alloc(0);
      for (const a of wireFields(f.bytes)) {
        if (a.no === 1) typeUrl = a.bytes?.toString('utf8') ?? '';
        if (a.no === 2) value = a.bytes ?? Buffer.alloc(0);
      }
      result.details.push({ typeUrl, value });
    }
  }
  return result;
}

export function decodeMultiErrorResponse(buf: Buffer): DeviceError[] {
  return wireFields(buf)
    .filter((f) => f.no === 1 && f.bytes)
    .map((f) => {
      const e: DeviceError = { deviceID: 0, code: 0, msg: '' };
      for (const g of wireFields(f.bytes as Buffer)) {
        if (g.no === 1) e.deviceID = g.varint ?? 0;
        if (g.no === 2) e.code = g.varint ?? 0;
        if (g.no === 3) e.msg = g.bytes?.toString('utf8') ?? '';
      }
      return e;
    });
}

/** The trailer of a failed Multi call, decoded; fails if it is missing. */
export function trailerOf(error: grpc.ServiceError): DecodedStatus {
  const values = error.metadata?.get('grpc-status-details-bin') ?? [];
  const raw = values[0];
  if (!Buffer.isBuffer(raw)) throw new Error(`no grpc-status-details-bin trailer (code ${error.code}: ${error.details})`);
  return decodeStatus(raw);
}

/** Per-device errors of a failed Multi call, from the gsdk.err type URL, sorted by device. */
export function deviceErrorsOf(error: grpc.ServiceError): DeviceError[] {
  const any = trailerOf(error).details.find((d) => d.typeUrl === 'type.googleapis.com/gsdk.err.MultiErrorResponse');
  if (!any) throw new Error('no gsdk.err.MultiErrorResponse in the trailer');
  return decodeMultiErrorResponse(any.value).sort((a, b) => a.deviceID - b.deviceID);
}

// ---- users as plain objects (proto-loader fills the defaults)

export const FORMAT = { SUPREMA: 0, ISO: 1, ANSI: 2 } as const;

/** A template in the simulator's convention: the first byte tags the format. */
export function template(format: number, size = 64, fill = 7): Buffer {
  const t = Buffer.alloc(size, fill);
  t[0] = format;
  return t;
}

export function finger(format: number = FORMAT.SUPREMA, index = 0): object {
  return { index, flag: 0, templates: [template(format, 64, index + 1), template(format, 64, index + 2)] };
}

export function csn(n: number): object {
  const data = Buffer.alloc(32);
  data.writeUInt32BE(n, 28);
  return { type: 1, size: 32, data };
}

export function user(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { hdr: { ID: id }, name: `User ${id}`, ...extra };
}

export const code = grpc.status;
