/**
 * The config reference table of README.md, made from the schema so the two cannot drift
 * (a test compares them). Regenerate with `rollcall config-schema --markdown`.
 */
import type { z } from 'zod';
import type { PluginDefinition } from '../plugins/api.js';
import { buildConfigSchema } from './schema.js';
import { arrayElement, core, layers, metaOf, objectShape } from './walk.js';

interface Row {
  key: string;
  type: string;
  default: string;
  restart: boolean;
  description: string;
}

function typeName(schema: z.ZodType): string {
  const c = core(schema) as unknown as { _zod: { def: { type: string; entries?: Record<string, string>; element?: z.ZodType } } };
  const def = c._zod.def;
  if (def.type === 'enum' && def.entries) return Object.values(def.entries).join(' \\| ');
  if (def.type === 'array' && def.element) return `list of ${typeName(def.element)}`;
  return def.type;
}

function defaultOf(schema: z.ZodType): string {
  for (const layer of layers(schema)) {
    const def = (layer as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
    if (def.type === 'default') {
      const value = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
      return `\`${JSON.stringify(value)}\``;
    }
  }
  return '';
}

function descriptionOf(schema: z.ZodType): string {
  for (const layer of layers(schema)) {
    const text = (layer as { description?: string }).description;
    if (text) return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  }
  return '';
}

function rows(schema: z.ZodType, prefix: string, inheritedRestart: boolean, out: Row[]): void {
  const restart = inheritedRestart || metaOf(schema).requiresRestart === true;
  const shape = objectShape(schema);
  const element = arrayElement(schema);
  const elementShape = element ? objectShape(element) : undefined;
  if (shape && Object.keys(shape).length > 0) {
    for (const [key, child] of Object.entries(shape)) rows(child, prefix ? `${prefix}.${key}` : key, restart, out);
    return;
  }
  out.push({ key: prefix, type: typeName(schema), default: defaultOf(schema), restart, description: descriptionOf(schema) });
  if (elementShape) {
    for (const [key, child] of Object.entries(elementShape)) rows(child, `${prefix}[].${key}`, restart, out);
  }
}

export function configReference(definitions: readonly PluginDefinition[]): string {
  const out: Row[] = [];
  rows(buildConfigSchema(definitions), '', false, out);
  const lines = ['| key | type | default | reload | description |', '|---|---|---|---|---|'];
  for (const row of out) {
    lines.push(`| \`${row.key}\` | ${row.type} | ${row.default} | ${row.restart ? 'restart' : 'live'} | ${row.description} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every leaf key path of the schema (object keys only, not inside lists). */
export function leafKeys(definitions: readonly PluginDefinition[]): string[] {
  const out: Row[] = [];
  rows(buildConfigSchema(definitions), '', false, out);
  return out.map((r) => r.key).filter((k) => !k.includes('[]'));
}
