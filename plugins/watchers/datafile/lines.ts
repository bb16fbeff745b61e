/**
 * Splits a member's bytes into LF-terminated records without holding more than one
 * record: a line that passes the cap is refused the moment it does, not when it ends.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #tooLong: (bytes: number) => Error;
  #parts: Buffer[] = [];
  #pending = 0;

  /** `maxLineBytes` counts the LF; `tooLong` builds the error thrown for a longer line. */
  constructor(maxLineBytes: number, tooLong: (bytes: number) => Error) {
    this.#maxLineBytes = maxLineBytes;
    this.#tooLong = tooLong;
  }

  /** Bytes of a record begun but not yet ended by an LF. */
  get pending(): number {
    return this.#pending;
  }

  /** The records this chunk completes, without their LF. */
  *push(chunk: Buffer): Generator<Buffer> {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end === -1) break;
      const length = this.#pending + (end - start);
      if (length + 1 > this.#maxLineBytes) throw this.#tooLong(length + 1);
      let line = chunk.subarray(start, end);
      if (this.#parts.length > 0) {
        line = Buffer.concat([...this.#parts, line], length);
        this.#parts = [];
        this.#pending = 0;
      }
      start = end + 1;
      yield line;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#pending += rest.length;
      if (this.#pending + 1 > this.#maxLineBytes) throw this.#tooLong(this.#pending);
      this.#parts.push(rest);
    }
  }
}
