/**
 * Reading systemd/rollcall.service in tests, and making copies of it that point at this
 * checkout, since `systemd-analyze verify` insists that every Exec binary exists.
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers/daemon-process.js';

export const systemdDir = join(repoRoot, 'systemd');
export const unitPath = join(systemdDir, 'rollcall.service');

/** Where the unit expects things on a production host (systemd/README.md). */
export const INSTALL_ROOT = '/opt/rollcall';
export const NODE_BINARY = '/usr/bin/node';
export const CONFIG_PATH = '/etc/rollcall/rollcall.yaml';

/** section → key → every value assigned, in order (a key may repeat, e.g. SystemCallFilter=). */
export type UnitFile = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq < 0) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    const values = section.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    section.set(key, values);
  }
  return unit;
}

/** The values of `key` in `section`, [] when unset. */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The last value of `key` (the one systemd uses for a single-valued key). */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

export async function readUnit(): Promise<{ text: string; unit: UnitFile }> {
  const text = await readFile(unitPath, 'utf8');
  return { text, unit: parseUnit(text) };
}

/**
 * The unit text with its install paths replaced: the node binary by the one running this
 * test, /opt/rollcall by this checkout, the config by `configPath`.
 */
export function pointAtCheckout(text: string, configPath: string): string {
  return text
    .replaceAll(`${NODE_BINARY} ${INSTALL_ROOT}/`, `${process.execPath} ${repoRoot}/`)
    .replaceAll(INSTALL_ROOT, repoRoot)
    .replaceAll(CONFIG_PATH, configPath);
}

export async function writeUnitCopy(dir: string, text: string): Promise<string> {
  const path = join(dir, 'rollcall.service');
  await writeFile(path, text);
  return path;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to its end; a missing binary is code 127, as in a shell. */
export function runTool(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : error.code === 'ENOENT' ? 127 : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The absolute path of `name` on PATH (or in the sbin folders root has), or undefined. */
export async function findTool(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
