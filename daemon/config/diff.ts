/**
 * What a reload changes: the leaf keys whose values differ between two validated
 * configs, split into those that apply live and those that need a restart (a key needs
 * a restart when it or any group above it is marked `requiresRestart`).
 */
import type { z } from 'zod';
import { formatPath, metaOf, schemaAt } from './walk.js';

export interface ConfigChange {
  path: string;
  requiresRestart: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function changedPaths(before: unknown, after: unknown, path: string[], out: string[][]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      changedPaths(before[key], after[key], [...path, key], out);
    }
    return;
  }
  // Arrays and scalars are compared whole: a changed device list is one change.
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(path);
}

export function diffConfig(schema: z.ZodType, before: unknown, after: unknown): ConfigChange[] {
  const paths: string[][] = [];
  changedPaths(before, after, [], paths);
  return paths.map((path) => ({
    path: formatPath(path),
    requiresRestart: schemaAt(schema, path).some((node) => metaOf(node).requiresRestart === true),
  }));
}
