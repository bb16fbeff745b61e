/**
 * Invalid configs for the hostile-input suite: each must be refused with an error naming
 * the path of the bad key (exit 78). `paths` are the paths the error must name; the file is
 * otherwise valid, so a config that passed would mean the check is missing, not that another
 * key happened to be wrong.
 */
export interface ConfigCase {
  name: string;
  text: string;
  paths: string[];
}

export const CONFIG_CORPUS: ConfigCase[] = [
  { name: 'unknown top-level key', text: 'dataDr: /tmp/x\n', paths: ['dataDr'] },
  { name: 'unknown nested key', text: 'sync:\n  batch:\n    maxUser: 10\n', paths: ['sync.batch.maxUser'] },
  { name: 'wrong type', text: 'dataDir: 5\n', paths: ['dataDir'] },
  { name: 'bad enum', text: 'log:\n  level: loud\n', paths: ['log.level'] },
  { name: 'negative batch', text: 'sync:\n  batch:\n    maxUsers: -3\n', paths: ['sync.batch.maxUsers'] },
  { name: 'fractional concurrency', text: 'sync:\n  concurrency: 2.5\n', paths: ['sync.concurrency'] },
  { name: 'share above 1', text: 'sync:\n  massRemoval:\n    share: 1.5\n', paths: ['sync.massRemoval.share'] },
  { name: 'NaN-like string number', text: 'shutdown:\n  timeoutMs: "1e309"\n', paths: ['shutdown.timeoutMs'] },
  { name: 'infinite number', text: 'sync:\n  backoff:\n    maxMs: .inf\n', paths: ['sync.backoff.maxMs'] },
  { name: 'device id out of range', text: 'devices:\n  - id: 4294967296\n', paths: ['devices[0].id'] },
  { name: 'device port zero', text: 'devices:\n  - id: 1\n  - id: 2\n    port: 0\n', paths: ['devices[1].port'] },
  { name: 'unknown device key', text: 'devices:\n  - id: 7\n    ip: 10.0.0.1\n', paths: ['devices[0].ip'] },
  { name: 'seed csn not decimal', text: 'seed:\n  users:\n    - id: "1"\n      csn: "0x10"\n', paths: ['seed.users[0].csn'] },
  { name: 'seed csn too large', text: `seed:\n  users:\n    - id: "1"\n      csn: "${(1n << 81n).toString()}"\n`, paths: ['seed.users[0].csn'] },
  { name: 'seed empty id', text: 'seed:\n  users:\n    - id: ""\n', paths: ['seed.users[0].id'] },
  { name: 'plugin config unknown key', text: 'watchers:\n  csv:\n    batchSiz: 10\n', paths: ['watchers.csv.batchSiz'] },
  { name: 'plugin config out of range', text: 'watchers:\n  csv:\n    batchSize: 1000000\n', paths: ['watchers.csv.batchSize'] },
  { name: 'list where a map belongs', text: 'sync: [1, 2]\n', paths: ['sync'] },
  { name: 'prototype pollution key', text: '__proto__:\n  polluted: true\nsync:\n  constructor: 1\n', paths: ['sync.constructor'] },
  { name: 'a key named like an Object.prototype member', text: 'toString: 1\nlog:\n  hasOwnProperty: 2\n', paths: ['toString', 'log.hasOwnProperty'] },
  { name: 'several problems at once', text: 'dataDir: 1\nlog:\n  level: 3\nhttp:\n  listen: []\n', paths: ['dataDir', 'log.level', 'http.listen'] },
  { name: 'top level is a list', text: '- a\n- b\n', paths: ['(root)'] },
  { name: 'top level is a scalar', text: 'just a string\n', paths: ['(root)'] },
  { name: 'broken YAML', text: 'sync:\n  mode: [unclosed\n', paths: ['(file)'] },
  { name: 'duplicate keys', text: 'dataDir: /a\ndataDir: /b\n', paths: ['(file)'] },
  { name: 'binary garbage', text: '\u0000\u0001\u0002\u00ff\ufffe{{{:::\n', paths: ['(file)'] },
];
