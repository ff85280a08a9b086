/**
 * The stand-in exporter over HTTP: values change at runtime (and bad changes are refused with the reasons),
 * counters integrate the rates, and the cAdvisor series follow whether Ollama answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StandInState, createStandInServer } from '../../scripts/stack/standin-exporter';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('stand-in exporter', () => {
  let now = 1000;
  const state = new StandInState({}, () => now);
  const server = createStandInServer(state);
  let url: string;
  beforeAll(async () => { url = await listen(server); });
  afterAll(() => close(server));

  it('serves each job on its own path in the text exposition format', async () => {
    for (const job of ['n8n', 'cadvisor', 'node']) {
      const res = await fetch(`${url}/metrics/${job}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    }
    expect(sample(await (await fetch(`${url}/metrics/n8n`)).text(), 'n8n_scaling_mode_queue_jobs_waiting')).toBe(0);
  });

  it('changes values at runtime through POST /values', async () => {
    const res = await fetch(`${url}/values`, { method: 'POST', body: JSON.stringify({ n8n_queue_jobs_waiting: 2, node_load1: 5.5 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ n8n_queue_jobs_waiting: 2, node_load1: 5.5 });
    expect(sample(await (await fetch(`${url}/metrics/n8n`)).text(), 'n8n_scaling_mode_queue_jobs_waiting')).toBe(2);
    expect(sample(await (await fetch(`${url}/metrics/node`)).text(), 'node_load1')).toBe(5.5);
  });

  it('refuses a bad change with every reason and changes nothing', async () => {
    const before = await (await fetch(`${url}/values`)).json();
    const res = await fetch(`${url}/values`, { method: 'POST', body: JSON.stringify({ node_load1: -1, bogus: 1, node_cpu_busy_ratio: 2, node_cpus: 1 }) });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: string[] };
    expect(errors).toEqual([
      'node_load1: must be a number >= 0',
      expect.stringMatching(/^unknown value "bogus"/),
      'node_cpu_busy_ratio: must be a number from 0 to 1',
    ]);
    expect(await (await fetch(`${url}/values`)).json()).toEqual(before);
    expect((await fetch(`${url}/values`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await fetch(`${url}/values`, { method: 'POST', body: '[1]' })).status).toBe(400);
  });

  it('invents no Ollama series: those come from the gateway, measured from real requests', async () => {
    expect((await fetch(`${url}/metrics/ollama`)).status).toBe(404);
    const res = await fetch(`${url}/values`, { method: 'POST', body: JSON.stringify({ ollama_requests_per_second: 1 }) });
    expect(res.status).toBe(400);
  });

  it('integrates the CPU ratio into node_cpu_seconds_total, along the host clock node_time_seconds', async () => {
    await fetch(`${url}/values`, { method: 'POST', body: JSON.stringify({ node_cpu_busy_ratio: 0.25, node_cpus: 2 }) });
    const node0 = await (await fetch(`${url}/metrics/node`)).text();
    now += 10;
    const node1 = await (await fetch(`${url}/metrics/node`)).text();
    const d = (a: string, b: string, s: string) => sample(b, s)! - sample(a, s)!;
    expect(d(node0, node1, 'node_time_seconds')).toBeCloseTo(10);
    expect(d(node0, node1, 'node_cpu_seconds_total{cpu="1",mode="idle"}')).toBeCloseTo(7.5);
    expect(d(node0, node1, 'node_cpu_seconds_total{cpu="1",mode="user"}')).toBeCloseTo(2.5);
  });

  it('with --ollama-url, exports the ollama container only while Ollama answers /api/tags', async () => {
    let up = true;
    const ollama = http.createServer((req, res) => {
      res.writeHead(up && req.url === '/api/tags' ? 200 : 503).end('{}');
    });
    const ollamaUrl = await listen(ollama);
    const watcher = createStandInServer(new StandInState(), { ollamaUrl });
    const watcherUrl = await listen(watcher);
    const series = 'container_memory_working_set_bytes{id="/docker/ollama",image="ollama/ollama",name="ollama"}';
    try {
      expect(sample(await (await fetch(`${watcherUrl}/metrics/cadvisor`)).text(), series)).toBe(1.5 * 2 ** 30);
      up = false;
      expect(sample(await (await fetch(`${watcherUrl}/metrics/cadvisor`)).text(), series)).toBeUndefined();
      await close(ollama);
      expect(sample(await (await fetch(`${watcherUrl}/metrics/cadvisor`)).text(), series)).toBeUndefined();
    } finally {
      await close(watcher);
      if (ollama.listening) await close(ollama);
    }
  });
});
