import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRollcallError } from '../../../../daemon/errors.js';
import { checkEncoding, decodeText, detectFormat, Utf8Check } from '../../../../plugins/watchers/csv/decode.js';
import { chunked, collect, encodeVariant, fixtureText, propertyRuns, VARIANTS } from './fixtures.js';

async function decodeAll(bytes: Uint8Array, chunkSize = 64 * 1024): Promise<string> {
  return (await collect(decodeText(chunked(bytes, chunkSize)))).join('');
}

async function refusal(bytes: Uint8Array, chunkSize = 64 * 1024): Promise<{ message: string; offset: unknown; line: unknown }> {
  try {
    await decodeAll(bytes, chunkSize);
  } catch (error) {
    assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'), `expected a refusal, got ${String(error)}`);
    return { message: error.message, offset: error.detail?.['offset'], line: error.detail?.['line'] };
  }
  assert.fail('the bytes were accepted');
}

describe('decodeText', () => {
  const text = fixtureText('basic.csv');

  for (const variant of VARIANTS) {
    test(`${variant.label} decodes to the same text, whatever the chunk size`, async () => {
      const bytes = encodeVariant(text, variant);
      const expected = variant.eol === '\n' ? text : text.replace(/\n/g, '\r\n');
      for (const size of [1, 2, 3, 7, 64 * 1024]) {
        assert.equal(await decodeAll(bytes, size), expected, `chunk size ${size}`);
      }
      assert.deepEqual(await checkEncoding(chunked(bytes, 5)), { encoding: variant.encoding, bom: variant.bom });
    });
  }

  test('an empty file and a file shorter than a BOM decode', async () => {
    assert.equal(await decodeAll(new Uint8Array(0)), '');
    assert.equal(await decodeAll(Buffer.from('a')), 'a');
    assert.equal(await decodeAll(Buffer.from([0xef, 0xbb, 0xbf])), '');
    assert.equal(await decodeAll(Buffer.from([0xff, 0xfe, 0x41, 0x00])), 'A');
  });

  const invalid: { name: string; bytes: number[]; offset: number; line: number; says: RegExp }[] = [
    { name: 'Latin-1 é (Windows-1252 file)', bytes: [...Buffer.from('id,name\n1,Ren'), 0xe9, 0x0a], offset: 13, line: 2, says: /bytes 0xE9 0x0A are not a UTF-8 character/ },
    { name: 'lone continuation byte', bytes: [0x41, 0x80], offset: 1, line: 1, says: /cannot start/ },
    { name: 'overlong NUL', bytes: [0x41, 0xc0, 0x80], offset: 1, line: 1, says: /0xC0/ },
    { name: 'overlong three-byte form', bytes: [0xe0, 0x80, 0x80], offset: 0, line: 1, says: /0xE0 0x80/ },
    { name: 'UTF-16 surrogate encoded in UTF-8', bytes: [0x0a, 0x0a, 0xed, 0xa0, 0x80], offset: 2, line: 3, says: /0xED 0xA0/ },
    { name: 'above U+10FFFF', bytes: [0xf4, 0x90, 0x80, 0x80], offset: 0, line: 1, says: /0xF4 0x90/ },
    { name: 'F5 lead byte', bytes: [0xf5, 0x80], offset: 0, line: 1, says: /0xF5/ },
    { name: 'truncated at the end', bytes: [0x41, 0xe2, 0x82], offset: 1, line: 1, says: /ends inside/ },
    { name: 'NUL (UTF-16 without BOM)', bytes: [0x69, 0x00, 0x64, 0x00], offset: 1, line: 1, says: /NUL/ },
    { name: 'BOM then invalid byte', bytes: [0xef, 0xbb, 0xbf, 0x41, 0xff], offset: 4, line: 1, says: /0xFF/ },
    { name: 'UTF-16LE lone low surrogate', bytes: [0xff, 0xfe, 0x41, 0x00, 0x00, 0xdc], offset: 4, line: 1, says: /low surrogate/ },
    { name: 'UTF-16LE high surrogate not followed by a low one', bytes: [0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00], offset: 2, line: 1, says: /high surrogate/ },
    { name: 'UTF-16BE odd length', bytes: [0xfe, 0xff, 0x00, 0x41, 0x00], offset: 4, line: 1, says: /half a code unit/ },
    { name: 'UTF-16LE NUL on line 2', bytes: [0xff, 0xfe, 0x0a, 0x00, 0x00, 0x00], offset: 4, line: 2, says: /NUL/ },
  ];
  for (const row of invalid) {
    test(`refuses ${row.name}, naming offset and line`, async () => {
      for (const size of [1, 2, 64]) {
        const got = await refusal(Buffer.from(row.bytes), size);
        assert.equal(got.offset, row.offset, `chunk size ${size}`);
        assert.equal(got.line, row.line);
        assert.match(got.message, row.says);
        assert.match(got.message, new RegExp(`byte offset ${row.offset} \\(line ${row.line}\\)`));
      }
    });
  }

  test('refuses UTF-32 by its BOM', () => {
    assert.throws(() => detectFormat(Buffer.from([0xff, 0xfe, 0, 0])), /UTF-32/);
    assert.throws(() => detectFormat(Buffer.from([0, 0, 0xfe, 0xff])), /UTF-32/);
  });

  test('checkEncoding finds a bad byte at the very end of a large file', async () => {
    const bytes = Buffer.concat([Buffer.from('1,ok\n'.repeat(50_000)), Buffer.from([0xc3])]);
    await assert.rejects(checkEncoding(chunked(bytes, 65536)), (error: unknown) => {
      assert.ok(isRollcallError(error, 'ROLLCALL_ERR_IMPORT_REFUSED'));
      assert.equal(error.detail?.['offset'], 250_000);
      assert.equal(error.detail?.['line'], 50_001);
      return true;
    });
  });

  test('property: the UTF-8 check agrees with a strict TextDecoder on arbitrary bytes', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let valid = true;
        try {
          strict.decode(bytes);
        } catch {
          valid = false;
        }
        const check = new Utf8Check();
        const problem = check.push(bytes) ?? check.end();
        const hasNul = bytes.includes(0);
        // NUL is valid UTF-8 but refused on purpose.
        assert.equal(problem === undefined, valid && !hasNul);
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  test('property: a bad byte is found at its offset and line whatever the chunks (the native fast path included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constant('\n')), { maxLength: 60 }),
        fc.nat(),
        fc.integer({ min: 1, max: 300 }),
        async (pieces, cut, size) => {
          const at = cut % (pieces.length + 1);
          const before = Buffer.from(pieces.slice(0, at).join('').replace(/[\0\uFEFF]/g, ''), 'utf8');
          const after = Buffer.from(pieces.slice(at).join('').replace(/[\0\uFEFF]/g, ''), 'utf8');
          const bytes = Buffer.concat([before, Buffer.from([0xff]), after]);
          const got = await refusal(bytes, size);
          assert.equal(got.offset, before.length);
          assert.equal(got.line, 1 + before.toString('latin1').split('\n').length - 1);
          // And without the bad byte, the same chunks pass.
          await checkEncoding(chunked(Buffer.concat([before, after]), size));
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });

  test('property: any string survives every encoding round trip', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\u0000') && !s.startsWith('\ufeff')), fc.integer({ min: 1, max: 9 }), async (text, size) => {
        for (const variant of VARIANTS) {
          if (variant.eol === '\r\n') continue;
          assert.equal(await decodeAll(encodeVariant(text, variant), size), text, variant.label);
        }
      }),
      { numRuns: propertyRuns(100) },
    );
  });
});
