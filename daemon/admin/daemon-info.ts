/**
 * Parts of `rollcall status` the daemon computes from what it already has: its version
 * (package.json) and each plugin's readiness (the plugin host, as /readyz sees it).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginHost } from '../plugins/host.js';
import type { PluginReadiness } from './backend.js';

/** The version in rollcall's package.json, found by walking up from this module. */
export function packageVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'rollcall' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // No package.json here (or not ours): look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

export function pluginReadiness(host: PluginHost | undefined): PluginReadiness[] {
  if (!host) return [];
  return host.plugins.map((plugin) => {
    const health = host.health(plugin);
    return {
      id: plugin.id,
      kind: plugin.definition.kind,
      name: plugin.definition.name,
      state: plugin.state,
      ok: health.ok,
      ...(health.detail !== undefined ? { detail: health.detail } : {}),
    };
  });
}
