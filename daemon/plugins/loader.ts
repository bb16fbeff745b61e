/**
 * Third-party plugins: npm packages named rollcall-plugin-* whose default export is a
 * PluginDefinition (or an array of them). They are resolved from node_modules beside the
 * config file, then beside the working directory, then beside rollcall itself.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RollcallError } from '../errors.js';
import type { PluginDefinition, PluginKind } from './api.js';

const KINDS: readonly PluginKind[] = ['storage', 'transport', 'sync-mode', 'watcher'];

interface PackageJson {
  main?: string;
  module?: string;
  exports?: unknown;
}

/** The entry file of an ESM or CommonJS package, found without running it. */
function entryOf(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const conditions = value as Record<string, unknown>;
      for (const key of ['.', 'import', 'node', 'default', 'require']) {
        const found = key in conditions ? pick(conditions[key]) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  };
  return join(packageDir, pick(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js');
}

function findPackageDir(name: string, searchFrom: readonly string[]): string | undefined {
  for (const start of searchFrom) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  if (!value || typeof value !== 'object') return false;
  const d = value as Record<string, unknown>;
  const schema = d.configSchema as { safeParse?: unknown } | undefined;
  return (
    typeof d.kind === 'string' &&
    KINDS.includes(d.kind as PluginKind) &&
    typeof d.name === 'string' &&
    /^[a-z0-9][a-z0-9-]*$/.test(d.name) &&
    typeof d.create === 'function' &&
    typeof schema?.safeParse === 'function'
  );
}

export async function loadPluginPackages(names: readonly string[], searchFrom: readonly string[]): Promise<PluginDefinition[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const definitions: PluginDefinition[] = [];
  for (const name of names) {
    const packageDir = findPackageDir(name, [...searchFrom, here]);
    if (!packageDir) {
      throw new RollcallError('ROLLCALL_ERR_PLUGIN_NOT_FOUND', `plugin package ${name} is not installed (looked in node_modules from ${searchFrom.join(', ')})`);
    }
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(entryOf(packageDir)).href)) as { default?: unknown };
    } catch (error) {
      // A CommonJS package whose entry cannot be imported directly.
      try {
        module = { default: createRequire(join(packageDir, 'package.json'))(packageDir) as unknown };
      } catch {
        throw new RollcallError('ROLLCALL_ERR_PLUGIN_INVALID', `plugin package ${name} could not be loaded: ${(error as Error).message}`, { cause: error });
      }
    }
    const exported = module.default;
    const list = Array.isArray(exported) ? exported : [exported];
    for (const definition of list) {
      if (!isPluginDefinition(definition)) {
        throw new RollcallError(
          'ROLLCALL_ERR_PLUGIN_INVALID',
          `plugin package ${name} must export a definition { kind: ${KINDS.join('|')}, name, configSchema (zod), create }`,
        );
      }
      definitions.push(definition);
    }
  }
  return definitions;
}
