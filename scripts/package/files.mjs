// Small file-tree helpers for scripts/package.mjs and its parts.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function run(command, args, extra = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...extra });
}

export function findFiles(dir, match, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findFiles(path, match, found);
    else if (entry.isFile() && match(entry.name)) found.push(path);
  }
  return found;
}

export function removeFiles(dir, match) {
  for (const file of findFiles(dir, match)) rmSync(file);
}

export function findDirs(dir, name, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    else findDirs(path, name, found);
  }
  return found;
}

export function startsWithShebang(path) {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}
