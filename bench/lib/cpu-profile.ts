/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) into the two lists one looks at
 * first: where time is spent in a function itself (self), and in a function and what it
 * calls (total), optionally only within a time window of the profile.
 */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample, per sample. */
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  /** file:line, shortened to the repository (or node_modules package) path. */
  where: string;
  selfMs: number;
  totalMs: number;
}

export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/**
 * Self and total time per function (by name and place), heaviest first. Recursion is
 * counted once per sample in `total`. `fromMs`/`toMs` (since the profile's start) keep only
 * samples in a window.
 */
export function functionTimes(profile: CpuProfile, window: { fromMs?: number; toMs?: number } = {}): FunctionTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = (node: ProfileNode): string => `${node.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    at += delta;
    if ((window.fromMs !== undefined && at < window.fromMs) || (window.toMs !== undefined && at > window.toMs)) continue;
    let node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const leaf = keyOf(node);
    self.set(leaf, (self.get(leaf) ?? 0) + delta);
    const seen = new Set<string>();
    while (node) {
      const key = keyOf(node);
      if (!seen.has(key)) {
        seen.add(key);
        total.set(key, (total.get(key) ?? 0) + delta);
      }
      const up = parent.get(node.id);
      node = up === undefined ? undefined : byId.get(up);
    }
  }
  return [...total.entries()]
    .map(([key, totalMs]) => {
      const [name, where] = key.split('\u0000') as [string, string];
      return { name, where, selfMs: self.get(key) ?? 0, totalMs };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
}
