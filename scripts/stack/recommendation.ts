/**
 * The current recommendation through the documented client query — the exact request of the n8n workflow's
 * "Ask Prometheus" node, so the stack shows what n8n would get.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './config';

export const N8N_WORKFLOW_FILE = path.join(repoRoot, 'scripts/n8n/ai-recommended-model.workflow.json');

export interface N8nNode { name: string; type: string; parameters: Record<string, any> }

export function workflowNode(name: string, file = N8N_WORKFLOW_FILE): N8nNode {
  const workflow = JSON.parse(readFileSync(file, 'utf8')) as { nodes: N8nNode[] };
  const node = workflow.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${path.relative(repoRoot, file)} has no node "${name}"`);
  return node;
}

/** The query parameter of the workflow's HTTP Request node. */
export function clientQuery(file = N8N_WORKFLOW_FILE): string {
  const node = workflowNode('Ask Prometheus', file);
  const query = node.parameters.queryParameters.parameters.find((p: { name: string }) => p.name === 'query');
  return query.value as string;
}

export interface Series { metric: Record<string, string>; value: [number, string] }

/** GET /api/v1/query with the documented query; the raw result series. */
export async function fetchRecommendation(prometheus: string): Promise<Series[]> {
  const url = new URL('/api/v1/query', prometheus);
  url.searchParams.set('query', clientQuery());
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; data?: { result: Series[] }; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus: ${body.error ?? res.status}`);
  return body.data!.result;
}

export function formatRecommendation(series: Series[]): string {
  if (series.length === 0) return '  (none yet: Prometheus has not evaluated the rules; query again in a moment)';
  const order = { low: 0, medium: 1, high: 2 } as Record<string, number>;
  const rows = [...series].sort((a, b) => (order[a.metric.complexity] ?? 9) - (order[b.metric.complexity] ?? 9)
    || (a.metric.task_type ?? '').localeCompare(b.metric.task_type ?? ''));
  return rows.map((s) => {
    const { complexity, task_type: taskType, model, priority, __name__: _name, ...rest } = s.metric;
    const extra = Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' ');
    return `  ${(complexity ?? '').padEnd(7)}${(taskType ?? '').padEnd(10)}${(model ?? '?').padEnd(13)}${(priority ?? '').padEnd(23)}${extra}`;
  }).join('\n');
}
