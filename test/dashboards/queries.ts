/**
 * What a Grafana dashboard asks Prometheus for, and whether a scrape of /metrics has it:
 * pure functions, so the dashboard test reads as the rule it enforces.
 */

/** One PromQL query of the dashboard and where it sits, for messages. */
export interface DashboardQuery {
  where: string;
  expr: string;
}

interface PanelLike {
  title?: unknown;
  panels?: unknown;
  targets?: unknown;
}

/**
 * Every query in the dashboard: each panel's targets (rows' nested panels included) and
 * each query variable of the templating.
 */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const root = dashboard as { panels?: unknown; templating?: { list?: unknown } };
  const walk = (panels: unknown): void => {
    if (!Array.isArray(panels)) return;
    for (const panel of panels as PanelLike[]) {
      const title = typeof panel.title === 'string' ? panel.title : '(untitled)';
      if (Array.isArray(panel.targets)) {
        for (const target of panel.targets as { expr?: unknown; refId?: unknown }[]) {
          if (typeof target.expr === 'string') out.push({ where: `panel "${title}" ${String(target.refId ?? '')}`.trim(), expr: target.expr });
        }
      }
      walk(panel.panels);
    }
  };
  walk(root.panels);
  const variables = Array.isArray(root.templating?.list) ? (root.templating.list as { name?: unknown; type?: unknown; query?: unknown }[]) : [];
  for (const variable of variables) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: unknown } | undefined)?.query;
    if (typeof query === 'string') out.push({ where: `variable $${String(variable.name)}`, expr: query });
  }
  return out;
}

/** The prefixes of the metrics rollcall serves: its own, and prom-client's process defaults. */
const METRIC = /\b(?:rollcall|process|nodejs)_[a-zA-Z0-9_]*[a-zA-Z0-9]\b/g;

/**
 * The metric names a PromQL expression reads. Quoted strings (label values, regexes) are
 * dropped first: a label value that looks like a metric name is not a query for it.
 */
export function metricNames(expr: string): string[] {
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  // Label lists of grouping and matching (by, on, group_left ...) name labels, not metrics.
  const unlabelled = unquoted.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...new Set(unlabelled.match(METRIC) ?? [])];
}

/** Metric family → type, from the `# TYPE` lines of a Prometheus text exposition. */
export function exposedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
  }
  return families;
}

const SERIES_SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * Whether `name` is served: a family itself, or one of the series a histogram or summary
 * family writes (NAME_bucket, NAME_sum, NAME_count).
 */
export function isServed(name: string, families: ReadonlyMap<string, string>): boolean {
  if (families.has(name)) return true;
  for (const [family, type] of families) {
    if ((SERIES_SUFFIXES[type] ?? []).some((suffix) => name === `${family}${suffix}`)) return true;
  }
  return false;
}

/** Each metric the queries read that the exposition does not serve, with the queries that read it. */
export function missingMetrics(queries: readonly DashboardQuery[], families: ReadonlyMap<string, string>): Map<string, string[]> {
  const missing = new Map<string, string[]>();
  for (const query of queries) {
    for (const name of metricNames(query.expr)) {
      if (isServed(name, families)) continue;
      missing.set(name, [...(missing.get(name) ?? []), query.where]);
    }
  }
  return missing;
}

/**
 * The query with Grafana's variables replaced by values Prometheus accepts, so promtool
 * can parse it: $__rate_interval and friends by a duration, other variables by a regex
 * that matches anything.
 */
export function withVariablesFilled(expr: string): string {
  return expr
    .replace(/\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g, '5m')
    .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, '.*');
}
