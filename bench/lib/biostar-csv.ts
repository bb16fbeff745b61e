/**
 * A deterministic BioStar-style user CSV (spec/biostar-domain.md §1): the columns of a
 * BioStar 2 export in server order, UTF-8 with a BOM and CRLF line ends as BioStar writes
 * them. Row i is always the same, so two runs read the same file byte for byte.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { FIRST_USER_ID } from './site-users.js';

export const CSV_HEADER = ['user_id', 'name', 'department', 'user_title', 'phone', 'email', 'user_group', 'start_datetime', 'expiry_datetime', 'csn'];

const DEPARTMENTS = ['Operations', 'Engineering', 'Finance', 'Security', 'Logistics', 'Front Desk', 'Research', 'Maintenance'];
const TITLES = ['Staff', 'Manager', 'Contractor', 'Intern', 'Supervisor'];

/** The cells of data row `i` (0-based). */
export function csvRow(i: number): string[] {
  const id = FIRST_USER_ID + i;
  return [
    String(id),
    `User ${id}`,
    DEPARTMENTS[i % DEPARTMENTS.length]!,
    TITLES[i % TITLES.length]!,
    `+1 555 ${String(i % 10_000).padStart(4, '0')}`,
    `user${id}@example.com`,
    'All Users',
    '2025-01-01 00:00:00',
    '2030-12-31 23:59:59',
    String(1_000_000 + i),
  ];
}

/** Writes a file of `rows` data rows; resolves with its size in bytes. */
export async function writeBiostarCsv(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`\ufeff${CSV_HEADER.join(',')}\r\n`);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `${csvRow(i).join(',')}\r\n`;
    if (chunk.length > 64 * 1024) {
      await write(chunk);
      chunk = '';
    }
  }
  if (chunk) await write(chunk);
  out.end();
  await once(out, 'finish');
  return bytes;
}
