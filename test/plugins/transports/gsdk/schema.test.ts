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
      insecure: false,
      deadlines: { defaultMs: 15_000, longMs: 30_000 },
      maxMessageBytes: 4 * 1024 * 1024,
      maxReceiveBytes: 72 * 1024 * 1024,
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
      assert.equal(configSchema.safeParse({ address, insecure: true }).success, valid);
    });
  }

  test('tls needs a CA; cert and key go together', () => {
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: '/etc/ca.crt' } }).success, true);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: {} }).success, false);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: 'ca', certFile: 'c' } }).success, false);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: 'ca', certFile: 'c', keyFile: 'k' } }).success, true);
  });

  test('a non-embedded address needs tls or insecure: true; the error names the gateway\'s cert/ca.crt', () => {
    for (const address of ['127.0.0.1:4000', 'gateway.site.lan:4000', '[::1]:4000']) {
      const result = configSchema.safeParse({ address });
      assert.equal(result.success, false, address);
      assert.equal(result.error!.issues.length, 1);
      const [issue] = result.error!.issues;
      assert.deepEqual(issue!.path, ['tls']);
      assert.match(issue!.message, /cert\/ca\.crt/);
      assert.match(issue!.message, /insecure: true/);
      assert.ok(issue!.message.includes(address), issue!.message);
    }
    // insecure: false in so many words is still no consent to plaintext.
    assert.equal(configSchema.safeParse({ address: 'gw:4000', insecure: false }).success, false);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', insecure: true }).success, true);
    assert.equal(configSchema.safeParse({ address: 'gw:4000', tls: { caFile: '/etc/ca.crt' } }).success, true);
    // The embedded simulator is plaintext on loopback and needs neither.
    assert.equal(configSchema.safeParse({ address: 'embedded' }).success, true);
    assert.equal(configSchema.safeParse({}).success, true);
    // Only a real boolean says it: a string "true" is refused.
    assert.equal(configSchema.safeParse({ address: 'gw:4000', insecure: 'true' }).success, false);
  });

  test('tls and insecure: true together are refused at insecure', () => {
    const result = configSchema.safeParse({ address: 'gw:4000', insecure: true, tls: { caFile: '/etc/ca.crt' } });
    assert.equal(result.success, false);
    assert.deepEqual(result.error!.issues.map((issue) => issue.path), [['insecure']]);
  });

  test('deadlines default above the gateway\'s own cmd (10 s) and long_cmd (20 s) timeouts', () => {
    const { deadlines } = configSchema.parse({});
    assert.ok(deadlines.defaultMs > 10_000, String(deadlines.defaultMs));
    assert.ok(deadlines.longMs > 20_000, String(deadlines.longMs));
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
    assert.equal(metaOf(shape.maxReceiveBytes).requiresRestart, true);
    assert.equal(metaOf(shape.insecure).requiresRestart, true);
    assert.equal(metaOf(shape.embedded).requiresRestart, true);
    assert.notEqual(metaOf(shape.deadlines).requiresRestart, true);
  });

  test('every key is described', () => {
    const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
    for (const [key, property] of Object.entries(json.properties)) assert.ok(property.description, key);
  });
});
