/**
 * Blanking PINs in the rows that rollcall keeps or reports: the raw cells handed to the
 * ingest host (the rejection journal, the error CSV) and the copy of a file kept in done/
 * or failed/.
 *
 * PIN cells are found by their column, which holds only while a row lines up with its
 * header. A row with more or fewer cells (an unquoted comma in a name, cells left out)
 * may hold its PIN anywhere, so in a file with a PIN column every cell of such a row is
 * blanked except the user ID, and the user ID only where no PIN cell can have moved into
 * it: a cell too many moves the cells after it to the right, so the ID stays when its
 * column comes before every PIN column; a cell left out moves them to the left, so the ID
 * stays when its column comes after every PIN column. Otherwise the row number (which
 * the error CSV keeps) is what identifies the row.
 */
import { normalizeHeader, resolveHeader, type ColumnConfig } from './columns.js';

/** Where a file's PIN cells and its user ID are, from its header. */
export interface RowRedaction {
  /** Cells in the header: a row of another width is misaligned. */
  width: number;
  pins: ReadonlySet<number>;
  /** The user_id column, when the header has one. */
  id: number | undefined;
}

/**
 * Indexes of the cells that hold PINs: columns mapped to pin (through the header and the
 * watcher's remap), and columns headed "pin" even when remapped away, since their cells
 * are still PINs.
 */
export function pinIndexes(header: readonly string[], remap: ColumnConfig['remap'] = {}): Set<number> {
  const config: ColumnConfig = { remap, customFields: [] };
  const pins = new Set<number>();
  for (const [index, name] of header.entries()) {
    const target = resolveHeader(name, config);
    if ((target.kind === 'field' && target.key === 'pin') || normalizeHeader(name) === 'pin') pins.add(index);
  }
  return pins;
}

export function redactionOf(header: readonly string[], config: ColumnConfig): RowRedaction {
  const id = header.findIndex((name) => {
    const target = resolveHeader(name, config);
    return target.kind === 'field' && target.key === 'user_id';
  });
  return { width: header.length, pins: pinIndexes(header, config.remap), id: id < 0 ? undefined : id };
}

/**
 * The row with its PIN cells blanked, misaligned rows as the file header says: a copy when
 * anything is blanked; the row itself when the file has no PIN column (nothing changes it
 * afterwards, and a copy per row is garbage at 500k rows).
 */
export function redactCells(cells: string[], redaction: RowRedaction): string[] {
  const { pins, width, id } = redaction;
  if (pins.size === 0) return cells;
  if (cells.length === width) return blankCells(cells, pins);
  const columns = [...pins];
  const idStays = id !== undefined && (cells.length > width ? columns.every((pin) => pin > id) : columns.every((pin) => pin < id));
  return cells.map((cell, index) => (idStays && index === id ? cell : ''));
}

/** A copy of a row with its PIN cells blanked, for error CSVs and reports. */
export function redactRow(raw: readonly string[], header: readonly string[], remap: ColumnConfig['remap'] = {}): string[] {
  return redactCells([...raw], redactionOf(header, { remap, customFields: [] }));
}

export function blankCells(raw: readonly string[], indexes: ReadonlySet<number>): string[] {
  return raw.map((cell, index) => (indexes.has(index) ? '' : cell));
}
