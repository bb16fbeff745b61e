/**
 * Reading the config schema as a tree: which keys an object accepts, the metadata of a
 * key (requiresRestart, path), and walking a value alongside its schema. zod keeps
 * wrappers (default, optional, pipe, ...) around the schema a key really has; these
 * functions look through them.
 */
import { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The schemas from the outermost wrapper down to the core schema of a key. */
export function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [schema];
  let current = schema;
  for (;;) {
    const def = defOf(current);
    const next = WRAPPERS.has(def.type) ? def.innerType : def.type === 'pipe' ? def.in : undefined;
    if (!next) return out;
    out.push(next);
    current = next;
  }
}

export function core(schema: z.ZodType): z.ZodType {
  const all = layers(schema);
  return all[all.length - 1]!;
}

/** Merged metadata of every layer of a key (inner layers first, outer ones win). */
export function metaOf(schema: z.ZodType): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const layer of layers(schema).reverse()) Object.assign(merged, z.globalRegistry.get(layer) ?? {});
  return merged;
}

/** The accepted keys of an object schema, or undefined when the schema is not an object. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = defOf(core(schema));
  return def.type === 'object' ? def.shape : undefined;
}

export function arrayElement(schema: z.ZodType): z.ZodType | undefined {
  const def = defOf(core(schema));
  return def.type === 'array' ? def.element : undefined;
}

export function recordValue(schema: z.ZodType): z.ZodType | undefined {
  const def = defOf(core(schema));
  return def.type === 'record' ? def.valueType : undefined;
}

/** The schema of the key at `path` (object keys and array indexes), if the schema has one. */
export function schemaAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  const chain: z.ZodType[] = [schema];
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    if (!current) break;
    const shape = objectShape(current);
    current = shape
      ? ownKey(shape, String(key))
      : (arrayElement(current) ?? recordValue(current));
    if (current) chain.push(current);
  }
  return chain;
}

/**
 * The schema of an object key, only if the object declares it: a config key named like an
 * Object.prototype member (`constructor`, `toString`, `__proto__`) is not a schema.
 */
export function ownKey(shape: Record<string, z.ZodType>, key: string): z.ZodType | undefined {
  return Object.hasOwn(shape, key) ? shape[key] : undefined;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Calls `visit` for every value in `value` that has a schema, depth first, with its path.
 * Used to find unknown keys even in plugin schemas that are not strict, and to resolve
 * path-valued keys.
 */
export function walk(
  schema: z.ZodType,
  value: unknown,
  visit: (schema: z.ZodType, value: unknown, path: (string | number)[]) => void,
  path: (string | number)[] = [],
): void {
  visit(schema, value, path);
  if (value === null || typeof value !== 'object') return;
  const shape = objectShape(schema);
  if (shape) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childSchema = ownKey(shape, key);
      if (childSchema) walk(childSchema, child, visit, [...path, key]);
    }
    return;
  }
  const element = arrayElement(schema);
  if (element && Array.isArray(value)) {
    value.forEach((child, index) => walk(element, child, visit, [...path, index]));
    return;
  }
  const valueSchema = recordValue(schema);
  if (valueSchema) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) walk(valueSchema, child, visit, [...path, key]);
  }
}
