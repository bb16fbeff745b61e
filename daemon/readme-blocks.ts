/**
 * The blocks of README.md that are made from code, so that the two cannot drift: the config
 * reference from the schema (STYLE §6), and the tables of error codes and of event kinds
 * from their catalogues (STYLE §7, §17). Each block stands between
 * `<!-- NAME:start -->` and `<!-- NAME:end -->`. `npm run readme` rewrites them all;
 * test/daemon/readme-blocks.test.ts fails while one differs.
 */
import { configReference } from './config/reference.js';
import { ErrorCodes } from './errors.js';
import { EventKinds } from './event-kinds.js';
import { BUILTIN_PLUGINS } from './plugins/registry.js';

export const README_BLOCKS = {
  'config-reference': () => configReference(BUILTIN_PLUGINS),
  'error-codes': () => catalogueTable('code', ErrorCodes),
  'event-kinds': () => catalogueTable('kind', EventKinds),
} as const satisfies Record<string, () => string>;

export type ReadmeBlockName = keyof typeof README_BLOCKS;

/** A two-column table of a catalogue: each key in code style, then its meaning. */
export function catalogueTable(keyColumn: string, catalogue: Readonly<Record<string, string>>): string {
  const lines = [`| ${keyColumn} | meaning |`, '|---|---|'];
  for (const [key, meaning] of Object.entries(catalogue)) lines.push(`| \`${key}\` | ${meaning.replace(/\|/g, '\\|')} |`);
  return `${lines.join('\n')}\n`;
}

function markers(name: ReadmeBlockName): { start: string; end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** Where the block's text lies in `readme` (between its markers), or undefined without them. */
function bounds(readme: string, name: ReadmeBlockName): { from: number; to: number } | undefined {
  const { start, end } = markers(name);
  const at = readme.indexOf(start);
  const to = readme.indexOf(end, at);
  return at < 0 || to < 0 ? undefined : { from: at + start.length, to };
}

/** The text between the block's markers, trimmed; undefined when README has no such block. */
export function readmeBlock(readme: string, name: ReadmeBlockName): string | undefined {
  const found = bounds(readme, name);
  return found && readme.slice(found.from, found.to).trim();
}

/** `readme` with the block's text replaced by `text`. Throws when the markers are missing. */
export function withReadmeBlock(readme: string, name: ReadmeBlockName, text: string): string {
  const found = bounds(readme, name);
  if (!found) throw new Error(`README.md has no ${markers(name).start} … ${markers(name).end} block`);
  return `${readme.slice(0, found.from)}\n${text.trimEnd()}\n${readme.slice(found.to)}`;
}
