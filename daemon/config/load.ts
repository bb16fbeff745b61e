/**
 * Finding, reading and validating the config. YAML or JSON only: a config never runs code.
 * The file is `--config FILE`, or the first non-empty one of SEARCH_PLACES in the working
 * directory. The parsers are cosmiconfig's own YAML and JSON loaders, but not its explorer:
 * the explorer picks a loader by extension (`.js`, `.cjs`, `.mjs`, `.ts` are imported and
 * run) and, when created, reads a "meta config" from the working directory
 * (`.config/config.mjs`, `package.json`...) with the code loaders included, which no option
 * turns off. Validation reports every problem at once, each with its path; unknown keys are
 * problems too, also inside plugin sections whose schemas are not strict.
 */
import { defaultLoaders } from 'cosmiconfig';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { RollcallError } from '../errors.js';
import { buildConfigSchema, type RollcallConfig } from './schema.js';
import { formatPath, metaOf, objectShape, ownKey, walk } from './walk.js';
import type { PluginDefinition } from '../plugins/api.js';

export const MODULE_NAME = 'rollcall';

export const SEARCH_PLACES = [
  'rollcall.yaml',
  'rollcall.yml',
  '.rollcallrc',
  '.rollcallrc.yaml',
  '.rollcallrc.yml',
  '.rollcallrc.json',
  '.config/rollcall.yaml',
  '.config/rollcallrc',
] as const;

export interface ConfigSource {
  /** The file read, or undefined when none was found and defaults apply. */
  filepath: string | undefined;
  /** Relative paths in the config are read from here. */
  baseDir: string;
  raw: unknown;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

export interface LoadedConfig extends ConfigSource {
  config: RollcallConfig;
}

/** Extensions a config file may have; no extension is YAML. Anything else is refused, never run. */
export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json', ''] as const;

/** Refuses a config file whose extension is not YAML's or JSON's, before it is opened. */
function checkConfigExtension(filepath: string): void {
  const extension = extname(filepath).toLowerCase();
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new RollcallError(
      'ROLLCALL_ERR_CONFIG_INVALID',
      `cannot read config ${filepath}: a config is YAML (.yaml, .yml, or no extension) or JSON (.json); "${extension}" files are not read (a config never runs code)`,
      { detail: { file: filepath, issues: [{ path: '(file)', message: `unsupported config file extension "${extension}"` }] } },
    );
  }
}

/** The parsed content of a YAML or JSON config file; `undefined` for an empty file. */
function parseConfigText(filepath: string, text: string): unknown {
  checkConfigExtension(filepath);
  const extension = extname(filepath).toLowerCase();
  if (text.trim() === '') return undefined;
  return extension === '.json' ? defaultLoaders['.json'](filepath, text) : defaultLoaders['.yaml'](filepath, text);
}

async function readIfPresent(filepath: string): Promise<string | undefined> {
  try {
    return await readFile(filepath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Reads the config file (no validation). A missing `--config FILE` is an error; a missing search result is not. */
export async function readConfig(options: { configPath?: string; cwd?: string } = {}): Promise<ConfigSource> {
  const cwd = options.cwd ?? process.cwd();
  try {
    if (options.configPath) {
      const filepath = resolve(cwd, options.configPath);
      // The extension is checked before the file is opened: a refused file is never read.
      checkConfigExtension(filepath);
      const raw = parseConfigText(filepath, await readFile(filepath, 'utf8'));
      return { filepath, baseDir: dirname(filepath), raw: raw ?? {} };
    }
    for (const place of SEARCH_PLACES) {
      const filepath = join(cwd, place);
      const text = await readIfPresent(filepath);
      // An empty file is passed over, as cosmiconfig's search did.
      if (text === undefined || text.trim() === '') continue;
      return { filepath, baseDir: dirname(filepath), raw: parseConfigText(filepath, text) ?? {} };
    }
    return { filepath: undefined, baseDir: cwd, raw: {} };
  } catch (error) {
    if (error instanceof RollcallError) throw error;
    const err = error as NodeJS.ErrnoException & { mark?: { line: number; column: number } };
    if (err.code === 'ENOENT') {
      throw new RollcallError('ROLLCALL_ERR_CONFIG_NOT_FOUND', `config file not found: ${options.configPath}`, { cause: error });
    }
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `cannot read config ${options.configPath ?? ''}: ${err.message}`.trim(), {
      cause: error,
      detail: { issues: [{ path: '(file)', message: err.message }] },
    });
  }
}

function describeIssue(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** Unknown keys anywhere, including inside plugin schemas that do not reject them themselves. */
function unknownKeys(schema: z.ZodType, raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  walk(schema, raw, (nodeSchema, value, path) => {
    const shape = objectShape(nodeSchema);
    if (!shape || value === null || typeof value !== 'object' || Array.isArray(value)) return;
    // A schema may name keys a user would try that mean something unsupported: `.meta({ unknownKeyHint: { pattern, message } })`.
    const hint = metaOf(nodeSchema).unknownKeyHint as { pattern: string; message: string } | undefined;
    for (const key of Object.keys(value)) {
      if (ownKey(shape, key)) continue;
      const message = hint && new RegExp(hint.pattern, 'i').test(key) ? `unknown key: ${hint.message}` : 'unknown key';
      issues.push({ path: formatPath([...path, key]), message });
    }
  });
  return issues;
}

/** Makes every key marked `.meta({ path: true })` absolute against `baseDir`. */
function resolvePaths(schema: z.ZodType, config: unknown, baseDir: string): void {
  walk(schema, config, (nodeSchema, value, path) => {
    if (typeof value !== 'string' || value === '' || isAbsolute(value) || metaOf(nodeSchema).path !== true) return;
    let parent: unknown = config;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
    (parent as Record<string | number, unknown>)[path[path.length - 1]!] = resolve(baseDir, value);
  });
}

export function validateConfig(
  source: ConfigSource,
  definitions: readonly PluginDefinition[],
): { ok: true; config: RollcallConfig } | { ok: false; issues: ConfigIssue[] } {
  const schema = buildConfigSchema(definitions);
  if (source.raw === null || typeof source.raw !== 'object' || Array.isArray(source.raw)) {
    return { ok: false, issues: [{ path: '(root)', message: 'the config must be a mapping of keys' }] };
  }
  const parsed = schema.safeParse(source.raw);
  const issues = parsed.success ? [] : parsed.error.issues.flatMap(describeIssue);
  const seen = new Set(issues.map((i) => `${i.path}\0${i.message}`));
  for (const issue of unknownKeys(schema, source.raw)) {
    const plain = issues.find((i) => i.path === issue.path && i.message === 'unknown key');
    if (plain) plain.message = issue.message;
    else if (!seen.has(`${issue.path}\0${issue.message}`)) issues.push(issue);
  }
  if (!parsed.success || issues.length > 0) return { ok: false, issues };
  const config = parsed.data;
  resolvePaths(schema, config, source.baseDir);
  return { ok: true, config };
}

export function configError(source: ConfigSource, issues: ConfigIssue[]): RollcallError {
  const where = source.filepath ?? 'defaults';
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `invalid config (${where}), ${issues.length} problem(s):\n${lines}`, {
    detail: { file: source.filepath, issues },
  });
}

/** Reads and validates; throws ROLLCALL_ERR_CONFIG_INVALID listing every problem. */
export async function loadConfig(
  options: { configPath?: string; cwd?: string },
  definitions: readonly PluginDefinition[],
): Promise<LoadedConfig> {
  const source = await readConfig(options);
  const result = validateConfig(source, definitions);
  if (!result.ok) throw configError(source, result.issues);
  return { ...source, config: result.config };
}
