/** Grafana provisioning: the Prometheus data source, the file provider, and the compose override's mounts. */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { DASHBOARD_DIR, dashboardFiles } from './dashboard-files';

const ROOT = path.resolve(__dirname, '../..');
const DATASOURCE_FILE = path.join(DASHBOARD_DIR, 'provisioning/datasources/ai-dispatcher-prometheus.yml');
const PROVIDER_FILE = path.join(DASHBOARD_DIR, 'provisioning/dashboards/ai-dispatcher.yml');
const OVERRIDE_FILE = path.join(ROOT, 'docker-compose.override.yml');

interface DatasourceFile {
  apiVersion: number;
  datasources: { name: string; uid: string; type: string; access: string; url: string; jsonData?: Record<string, unknown> }[];
}
interface ProviderFile {
  apiVersion: number;
  providers: { name: string; type: string; folder?: string; options: { path: string; foldersFromFilesStructure?: boolean } }[];
}

const datasources = yaml.load(fs.readFileSync(DATASOURCE_FILE, 'utf8')) as DatasourceFile;
const providers = yaml.load(fs.readFileSync(PROVIDER_FILE, 'utf8')) as ProviderFile;

test('the data source file provisions one Prometheus data source with a fixed uid', () => {
  expect(datasources.apiVersion).toBe(1);
  expect(datasources.datasources).toHaveLength(1);
  const [ds] = datasources.datasources;
  expect(ds).toMatchObject({ type: 'prometheus', access: 'proxy' });
  expect(ds.uid).toMatch(/^[a-zA-Z0-9-_]{1,40}$/);
  expect(new URL(ds.url).protocol).toMatch(/^https?:$/);
  // $__rate_interval needs the scrape interval to be known to Grafana.
  expect(ds.jsonData?.timeInterval).toMatch(/^\d+(ms|s|m)$/);
});

test('the dashboard provider reads JSON files from one absolute folder', () => {
  expect(providers.apiVersion).toBe(1);
  expect(providers.providers).toHaveLength(1);
  const [provider] = providers.providers;
  expect(provider.type).toBe('file');
  expect(path.posix.isAbsolute(provider.options.path)).toBe(true);
  expect(provider.options.foldersFromFilesStructure ?? false).toBe(false);
});

test('every dashboard sits at the top of dashboards/, where the provider folder is mounted', () => {
  expect(dashboardFiles().length).toBeGreaterThan(0);
  for (const { file } of dashboardFiles()) expect(fs.existsSync(path.join(DASHBOARD_DIR, file))).toBe(true);
});

const overrideExists = fs.existsSync(OVERRIDE_FILE);
(overrideExists ? describe : describe.skip)('docker-compose.override.yml mounts them into Grafana', () => {
  const compose = overrideExists
    ? (yaml.load(fs.readFileSync(OVERRIDE_FILE, 'utf8')) as { services: Record<string, { volumes?: (string | { source: string; target: string })[] }> })
    : { services: {} };
  const grafana = compose.services.grafana;
  // "${AI_DISPATCHER_DIR:-.}/dashboards:/var/lib/...:ro" -> [repo-relative source, target]
  const mounts = (grafana?.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return [volume.source.replace(/^\$\{AI_DISPATCHER_DIR:-\.\}\/?|^\.\//, ''), volume.target];
    const [source, target] = volume.split(/:(?=\/)/);
    return [source.replace(/^\$\{AI_DISPATCHER_DIR:-\.\}\/?|^\.\//, ''), target.replace(/:ro$/, '')];
  });

  test('the dashboards folder at the provider path, read-only', () => {
    expect(mounts).toContainEqual(['dashboards', providers.providers[0].options.path]);
    const raw = (grafana?.volumes ?? []).find((v) => typeof v === 'string' && v.includes(providers.providers[0].options.path));
    expect(raw === undefined || (raw as string).endsWith(':ro')).toBe(true);
  });

  test('both provisioning files under /etc/grafana/provisioning', () => {
    const targets = new Map(mounts.map(([source, target]) => [source, target]));
    const ds = targets.get('dashboards/provisioning/datasources/ai-dispatcher-prometheus.yml') ?? targets.get('dashboards/provisioning/datasources');
    const provider = targets.get('dashboards/provisioning/dashboards/ai-dispatcher.yml') ?? targets.get('dashboards/provisioning/dashboards');
    expect(ds).toMatch(/^\/etc\/grafana\/provisioning\/datasources(\/|$)/);
    expect(provider).toMatch(/^\/etc\/grafana\/provisioning\/dashboards(\/|$)/);
  });

  test('the data source URL names a service of the stack the override extends', () => {
    // The override extends a stack like the original design's (README.md), whose Prometheus service is "prometheus".
    expect(compose.services.prometheus).toBeDefined();
    expect(new URL(datasources.datasources[0].url).hostname).toBe('prometheus');
  });
});
