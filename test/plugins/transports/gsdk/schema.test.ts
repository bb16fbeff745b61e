import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import gsdk from '../../../../plugins/transports/gsdk/index.js';
import { configSchema } from '../../../../plugins/transports/gsdk/schema.js';

function metaOf(schema: z.ZodType): Record<string, unknown> {
  return (z.globalRegistry.get(schema) ?? {}) as Record<string, unknown>;
}

describe('gateway config schema', () => {
  test('the definition', () => {
    assert.equal(gsdk.kind, 'transport');
    assert.equal(gsdk.name, 'gsdk');
    assert.equal(gsdk.configKey, 'gateway');
    assert.equal(gsdk.configSchema, configSchema);
  });

  test('defaults: the embedded simulator with three devices', () => {
    assert.deepEqual(configSchema.parse({}), {
      address: 'embedded',
      deadlines: { defaultMs: 10_000, longMs: 20_000 },
      maxMessageBytes: 4 * 1024 * 1024,
      embedded: { devices: [{ id: 1001 }, { id: 1002 }, { id: 1003 }], port: 0 },
    });
  });

  const addresses: Array<[string, boolean]> = [
    ['embedded', true],
    ['127.0.0.1:4000', true],
    ['gateway.site.lan:4000', true],
    ['[::1]:4000', true],
    ['gateway', false],
    ['http://gateway:4000', false],
    ['', false],
    ['gateway:port', false],
  ];
  for (const [address, valid] of addresses) {
    test(`address ${JSON.stringify(address)} is ${valid ? 'accepted' : 'refused'}`, () => {
      assert.equal(configSchema.safeParse({ address }).success, valid);
    });
  }

  test('tls needs a CA; cert and key go together', () => {
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: '/etc/ca.crt' } }).success, true);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: {} }).success, false);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: 'ca', certFile: 'c' } }).success, false);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: 'ca', certFile: 'c', keyFile: 'k' } }).success, true);
  });

  test('unknown keys are errors', () => {
    assert.equal(configSchema.safeParse({ adress: 'gw:4000' }).success, false);
    assert.equal(configSchema.safeParse({ deadlines: { default: 5 } }).success, false);
  });

  test('address, tls, maxMessageBytes and embedded need a restart; deadlines do not', () => {
    const shape = configSchema.shape;
    assert.equal(metaOf(shape.address).requiresRestart, true);
    assert.equal(metaOf(shape.tls).requiresRestart, true);
    assert.equal(metaOf(shape.maxMessageBytes).requiresRestart, true);
    assert.equal(metaOf(shape.embedded).requiresRestart, true);
    assert.notEqual(metaOf(shape.deadlines).requiresRestart, true);
  });

  test('every key is described', () => {
    const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
    for (const [key, property] of Object.entries(json.properties)) assert.ok(property.description, key);
  });
});
