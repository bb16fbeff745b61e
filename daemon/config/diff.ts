/**
 * What a reload changes: the leaf keys whose values differ between two validated
 * configs, split into those that apply live and those that need a restart (a key needs
 * a restart when it or any group above it is marked `requiresRestart`), and the config a
 * reload runs with: the new one, with the restart-only keys kept at their running values.
 */
import type { z } from 'zod';
import { formatPath, metaOf, schemaAt } from './walk.js';
import type { RollcallConfig } from './schema.js';

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

export interface ReloadPlan {
  changes: ConfigChange[];
  live: ConfigChange[];
  needRestart: ConfigChange[];
  /** The new config, with the restart-only keys put back to their running values. */
  next: RollcallConfig;
}

/** What a reload from `running` to the valid `candidate` applies; pure, the daemon applies it. */
export function planReload(schema: z.ZodType, running: RollcallConfig, candidate: RollcallConfig): ReloadPlan {
  const changes = diffConfig(schema, running, candidate);
  const needRestart = changes.filter((c) => c.requiresRestart);
  const live = changes.filter((c) => !c.requiresRestart);
  // Keep the restart-only values running as they are; take the live ones.
  const next = structuredClone(candidate);
  for (const change of needRestart) restoreKey(next as unknown as Record<string, unknown>, running as unknown as Record<string, unknown>, change.path);
  return { changes, live, needRestart, next };
}

/** Copies the value at `path` (as formatted by formatPath) from `from` into `into`. */
function restoreKey(into: Record<string, unknown>, from: Record<string, unknown>, path: string): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let a: Record<string, unknown> = into;
  let b: Record<string, unknown> = from;
  for (const key of keys.slice(0, -1)) {
    if (typeof b[key] !== 'object' || b[key] === null) return;
    if (typeof a[key] !== 'object' || a[key] === null) a[key] = Array.isArray(b[key]) ? [] : {};
    a = a[key] as Record<string, unknown>;
    b = b[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (last in b) a[last] = structuredClone(b[last]);
  else delete a[last];
}
