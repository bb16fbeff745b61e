import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { RollcallError } from '../daemon/errors.js';
import { configSchema, type SimulatorConfig } from './schema.js';

/** Reads a simulator config (YAML, or JSON, which YAML reads too); every problem is reported with its path. */
export async function loadSimulatorConfig(file: string): Promise<SimulatorConfig> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `${file}: ${(error as Error).message}`, { cause: error, detail: { file } });
  }
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue.message,
    }));
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', `${file}: ${text}`, { detail: { file, issues } });
  }
  return result.data;
}
