import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { REDACTED, censorSecrets, createLogger, serializeError, setLogLevel } from '../../../daemon/obs/logger.js';
import { RollcallError, isRollcallError } from '../../../daemon/errors.js';
import { emptyUser, type User } from '../../../daemon/model/user.js';

/** Collects every line the logger writes, parsed. */
class Capture implements DestinationStream {
  readonly raw: string[] = [];
  write(line: string): void {
    this.raw.push(line);
  }
  get text(): string {
    return this.raw.join('');
  }
  get lines(): Record<string, unknown>[] {
    return this.raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  messages(): unknown[] {
    return this.lines.map((line) => line.msg);
  }
}

// Each secret is unique so a leak names its source.
const SECRET = {
  pinHash: 'UElOSEFTSC1zZWNyZXQtMzItYnl0ZXMtLS0tLS0tLS0=',
  cardData: 'Q0FSRC1EQVRBLXNlY3JldA==',
  fingerT0: 'RklOR0VSLVRFTVBMQVRFLTAtc2VjcmV0',
  fingerT1: 'RklOR0VSLVRFTVBMQVRFLTEtc2VjcmV0',
  faceT: 'RkFDRS1URU1QTEFURS1zZWNyZXQ=',
  faceImage: 'RkFDRS1JTUFHRS1zZWNyZXQ=',
  faceIr: 'RkFDRS1JUi1URU1QTEFURS1zZWNyZXQ=',
  faceIrImage: 'RkFDRS1JUi1JTUFHRS1zZWNyZXQ=',
  photo: 'UEhPVE8tc2VjcmV0',
};

function secretUser(id: string): User {
  return {
    ...emptyUser(id),
    name: `Visible Name ${id}`,
    cards: [{ type: 1, data: SECRET.cardData }],
    fingers: [{ index: 0, flag: 0, templates: [SECRET.fingerT0, SECRET.fingerT1] }],
    faces: [
      {
        index: 0,
        flag: 0x100,
        templates: [SECRET.faceT],
        imageData: SECRET.faceImage,
        irTemplates: [SECRET.faceIr],
        irImageData: SECRET.faceIrImage,
      },
    ],
    pinHash: SECRET.pinHash,
    photo: SECRET.photo,
  };
}

/** The same secrets in the G-SDK wire shape (UserInfo), as a transport might log a request. */
function wireUser(id: string): Record<string, unknown> {
  return {
    hdr: { ID: id },
    name: `Wire Name ${id}`,
    cards: [{ type: 1, size: 32, data: SECRET.cardData }],
    fingers: [{ templates: [SECRET.fingerT0, SECRET.fingerT1] }],
    PIN: SECRET.pinHash,
    photo: SECRET.photo,
  };
}

function assertNoSecrets(text: string): void {
  for (const [name, value] of Object.entries(SECRET)) {
    assert.ok(!text.includes(value), `secret ${name} leaked: ${text}`);
  }
  for (const value of ['1234', 'hunter2', '0x1A2B3C4D', 'JPG-SECRET', 'TEMPLATE-DATA-SECRET', 'HASHVAL-SECRET']) {
    assert.ok(!text.includes(value), `secret ${value} leaked: ${text}`);
  }
}

describe('createLogger redaction', () => {
  const plainSecrets = {
    pin: '1234',
    PIN: '1234',
    password: 'hunter2',
    csn: '0x1A2B3C4D',
    JPGImage: 'JPG-SECRET',
    templateData: 'TEMPLATE-DATA-SECRET',
    hashVal: 'HASHVAL-SECRET',
  };

  const cases: { name: string; object: Record<string, unknown>; visible: string[] }[] = [
    { name: 'top-level keys', object: { ...plainSecrets, ...secretUser('1') }, visible: ['Visible Name 1'] },
    { name: 'user', object: { user: { ...secretUser('2'), ...plainSecrets } }, visible: ['Visible Name 2'] },
    { name: 'users[*]', object: { users: [secretUser('3'), { ...secretUser('4'), ...plainSecrets }] }, visible: ['Visible Name 3', 'Visible Name 4'] },
    { name: 'row', object: { row: { user_id: '5', name: 'Row Name', ...plainSecrets } }, visible: ['Row Name'] },
    { name: 'info', object: { info: { ...secretUser('6') } }, visible: ['Visible Name 6'] },
    { name: 'detail', object: { detail: { ...plainSecrets, cards: [{ type: 1, data: SECRET.cardData }] } }, visible: [] },
    { name: 'patch.values and patch.pin', object: { patch: { id: '7', pin: '1234', values: secretUser('7') } }, visible: ['Visible Name 7'] },
    { name: 'request.users[*] in wire shape', object: { request: { users: [wireUser('8')], overwrite: true } }, visible: ['Wire Name 8'] },
    { name: 'response.users[*] in wire shape', object: { response: { users: [wireUser('9')] } }, visible: ['Wire Name 9'] },
    { name: 'single card', object: { card: { type: 1, data: SECRET.cardData }, csn: '0x1A2B3C4D' }, visible: [] },
  ];

  for (const { name, object, visible } of cases) {
    test(`censors secrets under ${name}`, () => {
      const out = new Capture();
      const logger = createLogger({ level: 'info', destination: out });
      logger.info(object, 'user changed');
      assertNoSecrets(out.text);
      assert.ok(out.text.includes(REDACTED), 'the censor marks where a secret was');
      for (const text of visible) assert.ok(out.text.includes(text), `${text} should stay visible`);
    });
  }

  test('censors at the exact nested paths and keeps the structure', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    logger.info({ users: [secretUser('10')] }, 'batch');
    const line = out.lines[0] as { users: Record<string, unknown>[] };
    const user = line.users[0] as Record<string, unknown> & {
      cards: { data: unknown; type: unknown }[];
      fingers: { templates: unknown; index: unknown }[];
      faces: Record<string, unknown>[];
    };
    assert.equal(user.id, '10');
    assert.equal(user.pinHash, REDACTED);
    assert.equal(user.photo, REDACTED);
    assert.equal(user.cards[0]?.data, REDACTED);
    assert.equal(user.cards[0]?.type, 1);
    assert.equal(user.fingers[0]?.templates, REDACTED);
    assert.equal(user.fingers[0]?.index, 0);
    assert.deepEqual(
      { t: user.faces[0]?.templates, i: user.faces[0]?.imageData, irT: user.faces[0]?.irTemplates, irI: user.faces[0]?.irImageData },
      { t: REDACTED, i: REDACTED, irT: REDACTED, irI: REDACTED },
    );
  });

  test('does not touch the object that was logged', () => {
    const logger = createLogger({ level: 'info', destination: new Capture() });
    const user = secretUser('11');
    logger.info({ user }, 'logged');
    assert.equal(user.pinHash, SECRET.pinHash);
    assert.equal(user.cards[0]?.data, SECRET.cardData);
  });

  test('censors secrets in child bindings and in nested children', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    const child = logger.child({ user: secretUser('12') });
    child.child({ row: { pin: '1234' } }).info('from a grandchild');
    assertNoSecrets(out.text);
    assert.ok(out.text.includes('Visible Name 12'));
  });

  test('keeps a key named data that is not a card', () => {
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).info({ data: 'plain', file: { data: 'also plain' } }, 'x');
    assert.equal(out.lines[0]?.data, 'plain');
    assert.deepEqual(out.lines[0]?.file, { data: 'also plain' });
  });

  test('censors secrets that an error carries in its detail', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    const error = new RollcallError('ROLLCALL_ERR_IMPORT_ROW', 'row 3 rejected', { detail: { row: 3, pin: '1234', user: secretUser('13') } });
    logger.error({ err: error }, 'import failed');
    assertNoSecrets(out.text);
    const err = out.lines[0]?.err as { detail: { row: number; pin: string } };
    assert.equal(err.detail.row, 3);
    assert.equal(err.detail.pin, REDACTED);
  });

  test('censors secrets under wrappers of any name and depth', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    logger.info({ merge: { conflict: { server: secretUser('14'), device: { user: secretUser('15') } } } }, 'conflict');
    assertNoSecrets(out.text);
    assert.ok(out.text.includes('Visible Name 14') && out.text.includes('Visible Name 15'));
  });

  test('matches secret keys in any spelling', () => {
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).info({ Pin: '1234', row: { PIN: '1234', Csn: '0x1A2B3C4D', Password: 'hunter2' } }, 'csv row');
    assertNoSecrets(out.text);
    assert.equal(out.lines[0]?.Pin, REDACTED);
  });

  test('censors an Error logged as the only argument and errors nested under other keys', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    logger.error(new RollcallError('ROLLCALL_ERR_IMPORT_ROW', 'bad row', { detail: { pin: '1234' } }));
    logger.warn({ failures: [{ device: 3, error: new RollcallError('ROLLCALL_ERR_DEVICE', 'refused', { detail: { user: secretUser('16') } }) }] }, 'partial');
    assertNoSecrets(out.text);
    const nested = (out.lines[1]?.failures as { error: { code: string; message: string } }[])[0]?.error;
    assert.equal(nested?.code, 'ROLLCALL_ERR_DEVICE', 'a nested error keeps its code instead of printing as {}');
    assert.equal(nested?.message, 'refused');
  });

  test('censors objects interpolated into the message without hiding the rest', () => {
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).info('row %j', { id: '17', pin: '1234', user: secretUser('17') });
    assertNoSecrets(out.text);
    assert.match(String(out.lines[0]?.msg), /"id":"17"/);
  });
});

describe('censorSecrets', () => {
  test('returns the same object when there is nothing to censor', () => {
    const value = { device: 3, users: [{ id: '1', name: 'x', cards: [] }], file: { data: 'plain' } };
    assert.equal(censorSecrets(value), value);
  });

  test('copies only along the censored path', () => {
    const shared = { device: 3 };
    const value = { shared, user: { pinHash: SECRET.pinHash } };
    const censored = censorSecrets(value) as typeof value;
    assert.notEqual(censored, value);
    assert.equal(censored.shared, shared);
    assert.equal(censored.user.pinHash, REDACTED);
    assert.equal(value.user.pinHash, SECRET.pinHash);
  });

  const cases: { name: string; input: unknown; expected: unknown }[] = [
    { name: 'primitives', input: 'pin', expected: 'pin' },
    { name: 'card data in a list of cards', input: { cards: [{ type: 2, data: 'x' }] }, expected: { cards: [{ type: 2, data: REDACTED }] } },
    { name: 'card data of the wire CardData shape', input: { scan: { CSNCardData: { data: 'x', size: 32 } } }, expected: { scan: { CSNCardData: { data: REDACTED, size: 32 } } } },
    { name: 'a buffer under a secret key', input: { templateData: Buffer.from('secret') }, expected: { templateData: REDACTED } },
    { name: 'a date stays a date', input: { at: new Date(0) }, expected: { at: new Date(0) } },
  ];
  for (const { name, input, expected } of cases) {
    test(name, () => assert.deepEqual(censorSecrets(input), expected));
  }

  test('survives cycles and very deep objects', () => {
    const cyclic: Record<string, unknown> = { pin: '1234' };
    cyclic.self = cyclic;
    assert.deepEqual(censorSecrets(cyclic), { pin: REDACTED, self: '[Circular]' });
    let deep: Record<string, unknown> = { pin: '1234' };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    assert.ok(!JSON.stringify(censorSecrets(deep)).includes('1234'));
  });
});

describe('error serializer', () => {
  test('keeps type, code, message, stack, detail and the cause chain', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', metadata: { big: 'x'.repeat(100) } });
    const error = new RollcallError('ROLLCALL_ERR_GATEWAY_UNAVAILABLE', 'gateway down', { cause, detail: { address: '127.0.0.1:4000' } });
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).error({ err: error }, 'failed');
    const err = out.lines[0]?.err as Record<string, unknown> & { cause: Record<string, unknown> };
    assert.equal(err.type, 'RollcallError');
    assert.equal(err.code, 'ROLLCALL_ERR_GATEWAY_UNAVAILABLE');
    assert.equal(err.message, 'gateway down');
    assert.match(String(err.stack), /gateway down/);
    assert.deepEqual(err.detail, { address: '127.0.0.1:4000' });
    assert.equal(err.cause.code, 'ECONNREFUSED');
    assert.equal(err.cause.message, 'connect ECONNREFUSED');
    assert.equal(err.cause.metadata, undefined, 'arbitrary fields of an error are dropped');
  });

  test('numeric gRPC codes are kept; non-errors pass through', () => {
    assert.equal((serializeError(Object.assign(new Error('unavailable'), { code: 14 })) as { code: number }).code, 14);
    assert.equal(serializeError('just a string'), 'just a string');
  });

  test('a cycle of causes ends', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).error({ err: a }, 'cycle');
    assert.equal((out.lines[0]?.err as { message: string }).message, 'a');
  });
});

describe('createLogger output', () => {
  test('writes JSON lines with the level as a label and an ISO time', () => {
    const out = new Capture();
    createLogger({ level: 'info', destination: out }).warn({ device: 7 }, 'slow device');
    const line = out.lines[0];
    assert.equal(line?.level, 'warn');
    assert.equal(line?.msg, 'slow device');
    assert.equal(line?.device, 7);
    assert.ok(!Number.isNaN(Date.parse(String(line?.time))));
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT/);
  });

  test('writes to a file descriptor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-logger-'));
    try {
      const file = join(dir, 'log.jsonl');
      const handle = await open(file, 'w');
      const logger = createLogger({ level: 'info', destination: handle.fd });
      logger.info({ pin: '1234' }, 'to a file');
      await new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
      await handle.close();
      const text = await readFile(file, 'utf8');
      assert.match(text, /"msg":"to a file"/);
      assert.ok(!text.includes('1234'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('refuses an unknown level', () => {
    assert.throws(
      () => createLogger({ level: 'verbose', destination: new Capture() }),
      (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID') && /verbose/.test(error.message),
    );
  });
});

describe('setLogLevel', () => {
  function family(): { out: Capture; root: Logger; plain: Logger; grandchild: Logger; pinned: Logger; underPinned: Logger } {
    const out = new Capture();
    const root = createLogger({ level: 'info', destination: out });
    const plain = root.child({ plugin: 'sync' });
    const grandchild = plain.child({ device: 1 });
    const pinned = root.child({ plugin: 'gsdk' }, { level: 'warn' });
    const underPinned = pinned.child({ device: 2 });
    return { out, root, plain, grandchild, pinned, underPinned };
  }

  test('reaches children created before the change, including ones made with their own level', () => {
    const { out, root, plain, grandchild, pinned, underPinned } = family();
    const all = { root, plain, grandchild, pinned, underPinned };
    for (const [name, logger] of Object.entries(all)) logger.debug(`before ${name}`);
    assert.deepEqual(out.messages(), []);

    setLogLevel(root, 'debug');
    for (const [name, logger] of Object.entries(all)) logger.debug(`after ${name}`);
    assert.deepEqual(out.messages(), ['after root', 'after plain', 'after grandchild', 'after pinned', 'after underPinned']);
    for (const logger of Object.values(all)) assert.equal(logger.level, 'debug');

    setLogLevel(root, 'error');
    for (const [name, logger] of Object.entries(all)) logger.warn(`quiet ${name}`);
    assert.equal(out.raw.length, 5, 'no warn line passes an error level');
  });

  test('children created after the change take the new level', () => {
    const { out, root } = family();
    setLogLevel(root, 'debug');
    root.child({ late: true }).debug('late child');
    assert.deepEqual(out.messages(), ['late child']);
  });

  test('on a child, changes that child and its descendants only', () => {
    const { out, root, plain, grandchild, pinned } = family();
    setLogLevel(plain, 'debug');
    root.debug('root');
    plain.debug('plain');
    grandchild.debug('grandchild');
    pinned.debug('pinned');
    assert.deepEqual(out.messages(), ['plain', 'grandchild']);
    assert.equal(root.level, 'info');
  });

  test('silent turns every logger off', () => {
    const { out, root, plain, pinned } = family();
    setLogLevel(root, 'silent');
    root.fatal('root');
    plain.error('plain');
    pinned.error('pinned');
    assert.equal(out.raw.length, 0);
  });

  test('an unknown level throws and changes nothing', () => {
    const { root, pinned } = family();
    assert.throws(() => setLogLevel(root, 'loud'), (error: unknown) => isRollcallError(error, 'ROLLCALL_ERR_CONFIG_INVALID'));
    assert.equal(root.level, 'info');
    assert.equal(pinned.level, 'warn');
  });
});
