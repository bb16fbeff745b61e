/**
 * Config of the gsdk transport, under the `gateway` key of the config file.
 */
import { z } from 'zod';
import { deviceSchema as simulatedDevice } from '../../../simulator/schema.js';

const restart = { requiresRestart: true } as const;

/** The gateway's default gRPC message limit, and grpc-js's. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * What rollcall accepts from the gateway by default: 72 MiB, the largest message a real
 * gateway accepts itself (its rpc_server max receive size). User.GetList has no paging, so
 * this bounds the largest device that can be checked: a 500,000-user list is about 6 MB,
 * and 72 MiB holds millions of headers even with long alphanumeric IDs.
 */
export const DEFAULT_MAX_RECEIVE_BYTES = 72 * 1024 * 1024;

/**
 * The gateway's own command timeouts (cmd 10 s, long_cmd 20 s). rollcall's defaults sit
 * above them so that the gateway's per-device error (a device that did not answer in time)
 * arrives before the client's DEADLINE_EXCEEDED, which names no device.
 */
export const GATEWAY_CMD_TIMEOUT_MS = 10_000;
export const GATEWAY_LONG_CMD_TIMEOUT_MS = 20_000;
export const DEFAULT_DEADLINE_MS = 15_000;
export const DEFAULT_LONG_DEADLINE_MS = 30_000;

export const configSchema = z
  .strictObject({
    address: z
      .string()
      .refine((value) => value === 'embedded' || /^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):\d{1,5}$/.test(value), {
        message: "expected 'embedded' or host:port, e.g. 127.0.0.1:4000",
      })
      .default('embedded')
      .describe("The device gateway, as host:port (a real gateway listens on 4000, TLS only), or 'embedded' to start the built-in simulator on a loopback port.")
      .meta(restart),
    tls: z
      .strictObject({
        caFile: z.string().min(1).describe("CA certificate (PEM) the gateway's certificate must chain to: the gateway's cert/ca.crt.").meta({ path: true }),
        certFile: z.string().min(1).optional().describe('Client certificate (PEM), for gateways that require mutual TLS.').meta({ path: true }),
        keyFile: z.string().min(1).optional().describe('Private key (PEM) of certFile.').meta({ path: true }),
        serverName: z
          .string()
          .min(1)
          .optional()
          .describe("Name to verify the gateway's certificate against, when it differs from the host in `address`."),
      })
      .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
        message: 'certFile and keyFile go together',
      })
      .optional()
      .describe("TLS to the gateway. Required for a real gateway unless `insecure: true`; the embedded simulator is plaintext.")
      .meta(restart),
    insecure: z
      .boolean()
      .default(false)
      .describe("true: talk plaintext to a non-embedded gateway (one started without TLS, e.g. `rollcall sim`, or on a trusted link). Without it, a host:port address needs `tls`.")
      .meta(restart),
    deadlines: z
      .strictObject({
        defaultMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(DEFAULT_DEADLINE_MS)
          .describe("Deadline of an ordinary call. Above the gateway's cmd timeout (10 s), so that the gateway's per-device error arrives first."),
        longMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(DEFAULT_LONG_DEADLINE_MS)
          .describe("Deadline of a long call: GetList, Get, GetPartial, EnrollMulti, UpdateMulti, DeleteMulti, DeleteAll(Multi), GetLog. Above the gateway's long_cmd timeout (20 s), so that the gateway's per-device error arrives first."),
      })
      .prefault({})
      .describe('Per-call deadlines; a caller may pass its own. Apply on reload.'),
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(512 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_BYTES)
      .describe('Largest gRPC message sent (the gateway\'s default limit is 4 MiB). Get is paged so that its answers stay under it too.')
      .meta(restart),
    maxReceiveBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_MAX_RECEIVE_BYTES)
      .describe('Largest gRPC message received. GetList answers a device\'s whole user list in one message (about 12 bytes a user with numeric IDs, up to ~45 with long alphanumeric ones): the default, 72 MiB, holds millions of users.')
      .meta(restart),
    embedded: z
      .strictObject({
        devices: z
          .array(simulatedDevice)
          .default([{ id: 1001 }, { id: 1002 }, { id: 1003 }])
          .describe('Virtual devices of the embedded simulator.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(0)
          .describe("Loopback port of the embedded simulator (127.0.0.1); 0 picks a free one. Fix it to drive the virtual devices with `rollcall sim ... --gateway 127.0.0.1:PORT`."),
      })
      .prefault({})
      .describe("Used only when address is 'embedded'.")
      .meta(restart),
  })
  .superRefine((config, ctx) => {
    if (config.address === 'embedded' && config.tls !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls applies to a real gateway; the embedded simulator is plaintext on a loopback port' });
    }
    if (config.address !== 'embedded' && config.tls === undefined && !config.insecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: `the gateway at ${config.address} needs TLS (a G-SDK device gateway is TLS only): set gateway.tls.caFile to a copy of the gateway's cert/ca.crt, or say \`insecure: true\` for a plaintext gateway (rollcall sim, a trusted link)`,
      });
    }
    if (config.tls !== undefined && config.insecure) {
      ctx.addIssue({ code: 'custom', path: ['insecure'], message: 'insecure: true and tls contradict each other: keep one' });
    }
  })
  .meta({
    description: 'The G-SDK device gateway and how to reach it.',
    // Keys one would add for a master gateway (Login, a JWT per call, tenants): refused with the reason.
    unknownKeyHint: {
      pattern: '^(master|masterGateway|master_gateway|jwt|token|login|tenant|tenantId|tenantCert|adminCert|gatewayId)$',
      message: 'the G-SDK master gateway (Login, a JWT on every call, tenants) is not supported; only the device gateway is: set gateway.address to the device gateway\'s host:port',
    },
  });

export type GatewayConfig = z.output<typeof configSchema>;
export type TlsConfig = NonNullable<GatewayConfig['tls']>;
export type EmbeddedDevice = z.output<typeof simulatedDevice>;
