/**
 * Turns the bytes of a dropped CSV file into text, streamed: UTF-8 with or without a BOM,
 * UTF-16 LE or BE with a BOM (BioStar reads UTF-16 since 2.9.3, spec §1.3).
 *
 * Bytes that are not valid in the detected encoding refuse the whole file, naming the
 * byte offset and line: such a file was almost always saved in a legacy code page
 * (Windows-1252, EUC-KR), so every non-ASCII name in it would be wrong, not only one row.
 * NUL characters refuse it too, since they are what UTF-16 without a BOM looks like when
 * read as UTF-8. The whole file is checked before a row is read (`checkEncoding`, or an
 * `EncodingScan` fed by the ingest host's read for the content hash), so a refused file
 * never commits half its rows; the rows are then decoded with `checked: true`. UTF-8 is
 * checked natively (buffer.isUtf8, simdutf) and byte by byte only where that fails, to
 * name the offset and line.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { RollcallError } from '../../../daemon/errors.js';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface TextFormat {
  encoding: TextEncoding;
  bom: boolean;
}

/** Where and why the bytes stopped being text. */
export interface InvalidText {
  /** Byte offset in the file (the BOM included) of the first byte of the bad sequence. */
  offset: number;
  /** 1-based line of that byte. */
  line: number;
  detail: string;
}

/** Reads a source to its end, checking every byte, and says how it is encoded. Throws ROLLCALL_ERR_IMPORT_REFUSED. */
export async function checkEncoding(source: AsyncIterable<Uint8Array>): Promise<TextFormat> {
  const scan = new EncodingScan();
  for await (const chunk of source) scan.push(chunk);
  return scan.end();
}

/**
 * The encoding check fed chunk by chunk, so that it can ride along another read of the
 * file (the ingest host's content hash: one read for both). `push` and `end` throw
 * ROLLCALL_ERR_IMPORT_REFUSED at the first invalid byte; `end` says how the file is encoded.
 */
export class EncodingScan {
  private head: Uint8Array = new Uint8Array(0);
  private format: TextFormat | undefined;
  private check: TextCheck | undefined;

  push(chunk: Uint8Array): void {
    if (this.format === undefined) {
      this.head = concat(this.head, chunk);
      // Four bytes tell UTF-32 (refused) from UTF-16.
      if (this.head.length < 4) return;
      this.begin();
      return;
    }
    const invalid = this.check!.push(chunk);
    if (invalid) throw refusal(this.format.encoding, invalid);
  }

  end(): TextFormat {
    if (this.format === undefined) this.begin();
    const invalid = this.check!.end();
    if (invalid) throw refusal(this.format!.encoding, invalid);
    return this.format!;
  }

  private begin(): void {
    const head = this.head;
    this.head = new Uint8Array(0);
    ({ format: this.format, check: this.check } = begin(head));
    const invalid = this.check.push(head.subarray(bomLength(this.format)));
    if (invalid) throw refusal(this.format.encoding, invalid);
  }
}

export interface DecodeOptions {
  /**
   * The same bytes already passed `checkEncoding` (or an `EncodingScan`): they are only
   * decoded here, by a fatal decoder, which still throws should they be invalid after all.
   */
  checked?: boolean;
}

/** Yields the text of a source in chunks, without its BOM. Throws ROLLCALL_ERR_IMPORT_REFUSED at the first invalid byte. */
export async function* decodeText(source: AsyncIterable<Uint8Array>, options: DecodeOptions = {}): AsyncGenerator<string, TextFormat> {
  return yield* scanText(source, options.checked === true);
}

async function* scanText(source: AsyncIterable<Uint8Array>, checked: boolean): AsyncGenerator<string, TextFormat> {
  let head: Uint8Array = new Uint8Array(0);
  let format: TextFormat | undefined;
  let check: TextCheck | undefined;
  let decoder: TextDecoder | undefined;

  const take = function* (bytes: Uint8Array): Generator<string> {
    if (!checked) {
      const invalid = check!.push(bytes);
      if (invalid) throw refusal(format!.encoding, invalid);
    }
    const text = decoder!.decode(bytes, { stream: true });
    if (text.length > 0) yield text;
  };

  for await (const chunk of source) {
    if (format === undefined) {
      head = concat(head, chunk);
      // Four bytes tell UTF-32 (refused) from UTF-16.
      if (head.length < 4) continue;
      ({ format, check, decoder } = begin(head, checked));
      yield* take(head.subarray(bomLength(format)));
    } else {
      yield* take(chunk);
    }
  }
  if (format === undefined) {
    ({ format, check, decoder } = begin(head, checked));
    yield* take(head.subarray(bomLength(format)));
  }
  if (!checked) {
    const invalid = check!.end();
    if (invalid) throw refusal(format.encoding, invalid);
  }
  const tail = decoder!.decode();
  if (tail.length > 0) yield tail;
  return format;
}

function begin(head: Uint8Array, fatal = false): { format: TextFormat; check: TextCheck; decoder: TextDecoder } {
  const format = detectFormat(head);
  const start = bomLength(format);
  const check = format.encoding === 'utf-8' ? new Utf8Check(start) : new Utf16Check(start, format.encoding === 'utf-16be');
  // ignoreBOM: the BOM is already cut off; a second one would be data.
  return { format, check, decoder: new TextDecoder(format.encoding, { ignoreBOM: true, fatal }) };
}

/** The encoding a file's first bytes announce. Throws for UTF-32, which BioStar does not read either. */
export function detectFormat(head: Uint8Array): TextFormat {
  const [a, b, c, d] = head;
  if ((a === 0xff && b === 0xfe && c === 0 && d === 0) || (a === 0 && b === 0 && c === 0xfe && d === 0xff)) {
    throw new RollcallError(
      'ROLLCALL_ERR_IMPORT_REFUSED',
      'the file is UTF-32 (its byte order mark says so); save it as UTF-8 or UTF-16 with a byte order mark',
      { detail: { encoding: 'utf-32' } },
    );
  }
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', bom: true };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', bom: true };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', bom: true };
  return { encoding: 'utf-8', bom: false };
}

function bomLength(format: TextFormat): number {
  if (!format.bom) return 0;
  return format.encoding === 'utf-8' ? 3 : 2;
}

function refusal(encoding: TextEncoding, invalid: InvalidText): RollcallError {
  const name = encoding === 'utf-8' ? 'UTF-8' : encoding === 'utf-16le' ? 'UTF-16 LE' : 'UTF-16 BE';
  return new RollcallError(
    'ROLLCALL_ERR_IMPORT_REFUSED',
    `the file is not valid ${name}: ${invalid.detail} at byte offset ${invalid.offset} (line ${invalid.line}); ` +
      'save it as UTF-8 (with or without BOM) or UTF-16 with a byte order mark',
    { detail: { encoding, offset: invalid.offset, line: invalid.line } },
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const hex = (byte: number): string => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/** An incremental validity check: bytes go in chunk by chunk, the first problem comes out. */
export interface TextCheck {
  push(bytes: Uint8Array): InvalidText | undefined;
  end(): InvalidText | undefined;
}

/** Well-formed UTF-8 as in Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF. */
export class Utf8Check implements TextCheck {
  private offset: number;
  private line = 1;
  /** Continuation bytes still expected by the sequence in progress. */
  private need = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private sequenceStart = 0;
  private sequenceLine = 1;
  /** The bytes of the sequence in progress, for the message. */
  private sequence: number[] = [];

  constructor(startOffset = 0) {
    this.offset = startOffset;
  }

  push(bytes: Uint8Array): InvalidText | undefined {
    return this.checkFrom(bytes, this.need === 0 ? this.fastPrefix(bytes) : 0);
  }

  /**
   * Checks the whole characters at the start of a chunk natively (simdutf through
   * buffer.isUtf8, the same rules as Table 3-7) and counts their lines; returns where the
   * byte-by-byte check takes over: at a character cut by the chunk's end, or at 0 when the
   * prefix is not clean (the slow check then finds and names the problem).
   */
  private fastPrefix(bytes: Uint8Array): number {
    let end = bytes.length;
    // Back to the lead byte of a character the chunk may cut (at most 3 bytes back).
    for (let back = 1; back <= 3 && end - back >= 0; back++) {
      const byte = bytes[end - back]!;
      if (byte < 0x80) break;
      if (byte >= 0xc0) {
        const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
        if (length > back) end -= back;
        break;
      }
    }
    if (end === 0) return 0;
    const prefix = Buffer.from(bytes.buffer, bytes.byteOffset, end);
    if (!isUtf8(prefix) || prefix.indexOf(0) !== -1) return 0;
    let lines = 0;
    for (let at = prefix.indexOf(0x0a); at !== -1; at = prefix.indexOf(0x0a, at + 1)) lines++;
    this.line += lines;
    this.offset += end;
    return end;
  }

  private checkFrom(bytes: Uint8Array, start: number): InvalidText | undefined {
    for (let i = start; i < bytes.length; i++, this.offset++) {
      const byte = bytes[i]!;
      if (this.need > 0) {
        if (byte < this.lower || byte > this.upper) {
          const bytes = [...this.sequence, byte].map(hex).join(' ');
          return { offset: this.sequenceStart, line: this.sequenceLine, detail: `the bytes ${bytes} are not a UTF-8 character` };
        }
        this.sequence.push(byte);
        this.need--;
        this.lower = 0x80;
        this.upper = 0xbf;
        continue;
      }
      if (byte < 0x80) {
        if (byte === 0x0a) this.line++;
        else if (byte === 0) return { offset: this.offset, line: this.line, detail: 'a NUL byte (UTF-16 without a byte order mark?)' };
        continue;
      }
      this.sequenceStart = this.offset;
      this.sequenceLine = this.line;
      this.sequence = [byte];
      if (byte >= 0xc2 && byte <= 0xdf) this.need = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        this.need = 2;
        if (byte === 0xe0) this.lower = 0xa0;
        else if (byte === 0xed) this.upper = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.need = 3;
        if (byte === 0xf0) this.lower = 0x90;
        else if (byte === 0xf4) this.upper = 0x8f;
      } else {
        return { offset: this.offset, line: this.line, detail: `byte ${hex(byte)} cannot start a character` };
      }
    }
    return undefined;
  }

  end(): InvalidText | undefined {
    if (this.need > 0) {
      return { offset: this.sequenceStart, line: this.sequenceLine, detail: `the file ends inside a character (${this.sequence.map(hex).join(' ')})` };
    }
    return undefined;
  }
}

/** UTF-16: whole code units, surrogates in pairs, no NUL. */
export class Utf16Check implements TextCheck {
  private offset: number;
  private line = 1;
  private oddByte: number | undefined;
  private highSurrogateAt: number | undefined;
  private highSurrogateLine = 1;

  constructor(
    startOffset: number,
    private readonly bigEndian: boolean,
  ) {
    this.offset = startOffset;
  }

  push(bytes: Uint8Array): InvalidText | undefined {
    let i = 0;
    if (this.oddByte !== undefined && bytes.length > 0) {
      const invalid = this.unit(this.oddByte, bytes[0]!, this.offset - 1);
      this.oddByte = undefined;
      this.offset++;
      i = 1;
      if (invalid) return invalid;
    }
    for (; i + 1 < bytes.length; i += 2, this.offset += 2) {
      const invalid = this.unit(bytes[i]!, bytes[i + 1]!, this.offset);
      if (invalid) return invalid;
    }
    if (i < bytes.length) {
      this.oddByte = bytes[i];
      this.offset++;
    }
    return undefined;
  }

  end(): InvalidText | undefined {
    if (this.highSurrogateAt !== undefined) {
      return { offset: this.highSurrogateAt, line: this.highSurrogateLine, detail: 'the file ends inside a surrogate pair' };
    }
    if (this.oddByte !== undefined) return { offset: this.offset - 1, line: this.line, detail: 'the file ends with half a code unit' };
    return undefined;
  }

  private unit(first: number, second: number, at: number): InvalidText | undefined {
    const unit = this.bigEndian ? (first << 8) | second : (second << 8) | first;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (this.highSurrogateAt !== undefined) {
      if (!isLow) return { offset: this.highSurrogateAt, line: this.highSurrogateLine, detail: 'an unpaired high surrogate' };
      this.highSurrogateAt = undefined;
      return undefined;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      this.highSurrogateAt = at;
      this.highSurrogateLine = this.line;
    } else if (isLow) {
      return { offset: at, line: this.line, detail: 'an unpaired low surrogate' };
    } else if (unit === 0x0a) {
      this.line++;
    } else if (unit === 0) {
      return { offset: at, line: this.line, detail: 'a NUL character' };
    }
    return undefined;
  }
}
