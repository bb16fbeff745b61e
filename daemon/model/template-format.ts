/**
 * Fingerprint template formats (finger.TemplateFormat on the wire: 0 SUPREMA, 1 ISO, 2 ANSI):
 * the names the config uses and the numbers devices report.
 */
export const TEMPLATE_FORMAT_NAMES = ['SUPREMA', 'ISO', 'ANSI'] as const;
export type TemplateFormatName = (typeof TEMPLATE_FORMAT_NAMES)[number];

/** finger.TemplateFormat of a name. */
export function templateFormatNumber(name: TemplateFormatName): number {
  return TEMPLATE_FORMAT_NAMES.indexOf(name);
}

/** The name of finger.TemplateFormat `value`, or its number when it has none. */
export function templateFormatName(value: number): string {
  return TEMPLATE_FORMAT_NAMES[value] ?? String(value);
}
