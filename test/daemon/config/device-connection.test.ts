/**
 * How a configured device connects (`devices[].connection`, `address`) and the gateway keys
 * of a master gateway, validated with the real schema of every built-in plugin: each bad
 * value is an error naming its key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../daemon/config/load.js';
import { isDeviceIpv4 } from '../../../daemon/config/schema.js';
import { BUILTIN_PLUGINS } from '../../../daemon/plugins/registry.js';

const issuesOf = (raw: unknown) => {
  const result = validateConfig({ filepath: undefined, baseDir: '/tmp', raw }, BUILTIN_PLUGINS);
  return result.ok ? [] : result.issues;
};

test('IPv4 addresses as the gateway takes them', () => {
  for (const ok of ['192.168.0.20', '10.0.0.1', '1.2.3.4', '223.255.255.254']) assert.equal(isDeviceIpv4(ok), true, ok);
  for (const bad of ['reader-1.site.local', '192.168.0', '192.168.0.256', '010.0.0.1', '0.0.0.0', '255.255.255.255', '239.1.1.1', '::1', '1.2.3.4:51211', ' 1.2.3.4', '']) {
    assert.equal(isDeviceIpv4(bad), false, bad);
  }
});

test('an invalid device address is a config error naming the key', () => {
  const issues = issuesOf({ devices: [{ id: 1 }, { id: 2, address: 'reader-2.site.local' }] });
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.path, 'devices[1].address');
  assert.match(issues[0]!.message, /IPv4/);
});

test('connection: accept takes no address; connection: dial needs one; both name the key', () => {
  const issues = issuesOf({ devices: [{ id: 1, connection: 'accept', address: '10.0.0.1' }, { id: 2, connection: 'dial' }, { id: 3, connection: 'sideways' }] });
  assert.deepEqual(issues.map((i) => i.path).sort(), ['devices[0].address', 'devices[1].address', 'devices[2].connection']);
  assert.match(issues.find((i) => i.path === 'devices[0].address')!.message, /dials the gateway itself/);
});

test('valid device entries pass: accept by ID, dial by address, neither', () => {
  assert.deepEqual(issuesOf({ devices: [{ id: 1, connection: 'accept' }, { id: 2, address: '10.0.0.2' }, { id: 3, connection: 'dial', address: '10.0.0.3' }, { id: 4 }] }), []);
});

test('master-gateway keys under gateway are refused with the reason, at their path', () => {
  const issues = issuesOf({ gateway: { address: '10.0.0.9:4010', insecure: true, master: true, jwt: 'x' } });
  assert.deepEqual(issues.map((i) => i.path).sort(), ['gateway.jwt', 'gateway.master']);
  for (const issue of issues) assert.match(issue.message, /master gateway .* not supported; only the device gateway/);
  // Any other unknown key stays a plain one.
  assert.deepEqual(issuesOf({ gateway: { adress: 'x' } }).map((i) => i.message), ['unknown key']);
});
