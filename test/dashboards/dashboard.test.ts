/**
 * dashboards/rollcall.json: every metric it queries is served by the daemon's /metrics
 * (a real daemon with devices, a device-side enrollment and its fan-out), every query
 * parses as PromQL, and the panels the issue asks for are there.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { repoRoot } from '../helpers/daemon-process.js';
import { BusyDaemon } from '../metrics/busy-daemon.js';
import { promtool, promtoolOrSkip } from '../metrics/promtool.js';
import { dashboardQueries, exposedFamilies, isServed, metricNames, missingMetrics, withVariablesFilled } from './queries.js';

const dashboardPath = join(repoRoot, 'dashboards', 'rollcall.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(dashboardPath, 'utf8')) as Dashboard;
}

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

describe('metric names in PromQL', () => {
  const cases: [expr: string, names: string[]][] = [
    ['histogram_quantile(0.95, sum by (le) (rate(rollcall_sync_latency_seconds_bucket{instance=~"$instance"}[5m])))', ['rollcall_sync_latency_seconds_bucket']],
    ['sum by (op, result) (rate(rollcall_sync_ops_total[$__rate_interval]))', ['rollcall_sync_ops_total']],
    ['process_resident_memory_bytes + nodejs_heap_size_used_bytes', ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']],
    ['rollcall_users{job="rollcall_users_job"}', ['rollcall_users']],
    ['label_values(rollcall_device_connected, device)', ['rollcall_device_connected']],
    ['up{job="rollcall"}', []],
    ['sum by (rollcall_instance) (rollcall_device_served * on (instance) group_left (rollcall_instance) rollcall_cluster_instance_info)', ['rollcall_device_served', 'rollcall_cluster_instance_info']],
  ];
  for (const [expr, names] of cases) {
    test(expr, () => assert.deepEqual(metricNames(expr), names));
  }

  test('a histogram serves its _bucket, _sum and _count series; a counter only itself', () => {
    const families = exposedFamilies('# HELP h_seconds x\n# TYPE h_seconds histogram\n# HELP c_total y\n# TYPE c_total counter\n');
    assert.equal(isServed('h_seconds_bucket', families), true);
    assert.equal(isServed('h_seconds_count', families), true);
    assert.equal(isServed('c_total', families), true);
    assert.equal(isServed('c_total_count', families), false);
    assert.equal(isServed('c', families), false);
  });

  test('Grafana variables are filled so that promtool can parse the query', () => {
    assert.equal(
      withVariablesFilled('rate(x{instance=~"$instance", device=~"${device}"}[$__rate_interval])'),
      'rate(x{instance=~".*", device=~".*"}[5m])',
    );
  });
});

describe('dashboards/rollcall.json', () => {
  let busy: BusyDaemon | undefined;
  let exposition = '';
  before(async () => {
    busy = await BusyDaemon.start();
    exposition = (await busy.metrics()).text;
  }, { timeout: 120_000 });
  after(async () => {
    await busy?.stop();
  });

  test('is a Grafana dashboard with a Prometheus datasource variable and a device variable', async () => {
    const dashboard = await readDashboard();
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(dashboard.uid, 'rollcall');
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(variables.get('datasource')?.type, 'datasource');
    assert.equal(variables.get('datasource')?.query, 'prometheus');
    assert.equal(variables.get('device')?.definition, 'label_values(rollcall_device_connected, device)');
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      assert.equal(panel.datasource?.uid, '${datasource}', `panel "${panel.title}" uses the datasource variable`);
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`);
    }
  });

  test('has the panels the issue asks for', async () => {
    const queries = dashboardQueries(await readDashboard()).map((q) => q.expr);
    const has = (pattern: RegExp): boolean => queries.some((q) => pattern.test(q));
    const asked: [what: string, pattern: RegExp][] = [
      ['sync latency p50', /histogram_quantile\(0\.5, .*rollcall_sync_latency_seconds_bucket/],
      ['sync latency p95', /histogram_quantile\(0\.95, .*rollcall_sync_latency_seconds_bucket/],
      ['sync latency p99', /histogram_quantile\(0\.99, .*rollcall_sync_latency_seconds_bucket/],
      ['device event to fan-out latency', /histogram_quantile\(.*rollcall_device_event_to_fanout_seconds_bucket/],
      // Each device once, whichever instances report it (several share the fleet).
      ['devices connected', /sum\(max by \(device\) \(rollcall_device_connected/],
      ['devices in sync', /sum\(max by \(device\) \(rollcall_device_in_sync/],
      ['devices quarantined', /sum\(max by \(device\) \(rollcall_device_quarantined/],
      ['devices served per instance, by rollcall name', /rollcall_device_served.* group_left \(rollcall_instance\) rollcall_cluster_instance_info/],
      ['pending changes per device', /^rollcall_device_pending_changes\{.*device=~"\$device"/],
      ['held removals', /rollcall_device_held_removals/],
      ['import rows by result', /sum by \(format, result\) \(increase\(rollcall_import_rows_total/],
      ['merge conflicts', /rate\(rollcall_merge_conflicts_total/],
      ['merges by result', /sum by \(result\) \(rate\(rollcall_merge_total/],
      ['operations by result', /sum by \(op, result\) \(rate\(rollcall_sync_ops_total/],
      ['gateway calls by method and code', /sum by \(method, code\) \(rate\(rollcall_gateway_calls_total/],
      ['plugin up', /rollcall_plugin_up/],
      ['process memory', /process_resident_memory_bytes/],
      ['process CPU', /rate\(process_cpu_(user_)?seconds_total/],
    ];
    for (const [what, pattern] of asked) assert.ok(has(pattern), `a panel for ${what} (${pattern})`);
  });

  test('every metric it queries exists in the daemon\'s /metrics', async () => {
    const queries = dashboardQueries(await readDashboard());
    const families = exposedFamilies(exposition);
    assert.ok(families.size > 20, 'the scrape has the daemon\'s families');
    const referenced = new Set(queries.flatMap((q) => metricNames(q.expr)));
    assert.ok(referenced.size >= 15, `the dashboard reads ${referenced.size} metrics`);
    const missing = missingMetrics(queries, families);
    assert.deepEqual(
      Object.fromEntries(missing),
      {},
      `metrics the dashboard queries but /metrics does not serve (metric: where it is queried)`,
    );
  });

  test('the check fails for a dashboard that queries a metric the daemon does not serve', async () => {
    const dashboard = await readDashboard();
    const broken = structuredClone(dashboard);
    const panel = allPanels(broken.panels).find((p) => p.title === 'Merge conflicts')!;
    panel.targets![0]!.expr = 'sum(rate(rollcall_merge_conflict_total[$__rate_interval]))';
    const families = exposedFamilies(exposition);
    const before = missingMetrics(dashboardQueries(dashboard), families);
    const after = missingMetrics(dashboardQueries(broken), families);
    // Whatever else is missing, the typo (conflict for conflicts) is newly caught, where it sits.
    assert.deepEqual(
      [...after.keys()].filter((name) => !before.has(name)),
      ['rollcall_merge_conflict_total'],
    );
    assert.deepEqual(after.get('rollcall_merge_conflict_total'), ['panel "Merge conflicts" A']);
  });

  test('every panel query parses as PromQL (promtool check rules)', async (t) => {
    const path = await promtoolOrSkip(t);
    if (path === undefined) return;
    const queries = dashboardQueries(await readDashboard()).filter((q) => q.where.startsWith('panel'));
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-dash-'));
    try {
      const rules = {
        groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `rollcall_dashboard:query${i}`, expr: withVariablesFilled(q.expr) })) }],
      };
      const file = join(dir, 'rules.yml');
      await writeFile(file, toYaml(rules));
      const result = await promtool(path, ['check', 'rules', file]);
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('dashboards/prometheus.yml is a valid Prometheus config scraping 127.0.0.1:9464', async (t) => {
    const path = await promtoolOrSkip(t);
    if (path === undefined) return;
    const file = join(repoRoot, 'dashboards', 'prometheus.yml');
    const result = await promtool(path, ['check', 'config', file]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    const text = await readFile(file, 'utf8');
    assert.match(text, /job_name: rollcall/);
    assert.match(text, /targets: \['127\.0\.0\.1:9464'\]/);
  });
});
