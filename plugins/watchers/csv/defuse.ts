/**
 * Formula-injection defusing (OWASP "CSV Injection"): a cell that starts with `=`, `+`,
 * `-`, `@`, a tab or a CR is written with a single quote in front, so a spreadsheet shows
 * it as text instead of running it. The exporter also quotes such cells, as OWASP advises.
 *
 * The reader undoes it so an exported file reads back unchanged: it drops one leading
 * quote from a cell whose next character is one of those. To keep that lossless, a value
 * that already starts with quotes followed by one of those characters gets one more quote
 * on export. A quote typed in front of other text (Excel's "treat as text" mark) stays.
 */

const DANGEROUS = /^'*[=+\-@\t\r]/;
const DEFUSED = /^'+[=+\-@\t\r]/;

export function defuseCell(value: string): string {
  return DANGEROUS.test(value) ? `'${value}` : value;
}

export function undefuseCell(value: string): string {
  return DEFUSED.test(value) ? value.slice(1) : value;
}

/** Whether a written cell carries the defusing quote (the exporter quotes those). */
export const DEFUSED_CELL = /^'/;
