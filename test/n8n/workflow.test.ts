/**
 * scripts/n8n/ai-recommended-model.workflow.json: importable shape, the documented query, and the Code node
 * applied to Prometheus answers (captured fixtures and the bundle's label set). The e2e test runs the same
 * request against a live Prometheus.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_QUERY, PICK_MODEL_FILE, WORKFLOW_FILE, workflowText } from '../../scripts/n8n/build-workflow';
import { RECOMMENDATION_QUERY } from '../../scripts/harness/prometheus';
import { runCodeNode } from './code-node';

const workflow = JSON.parse(readFileSync(WORKFLOW_FILE, 'utf8'));
const node = (name: string) => workflow.nodes.find((n: any) => n.name === name);
const fixtures = path.join(__dirname, '../fixtures/prometheus-2.42');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8'));
const task = (complexity: string, taskType: string) => ({ Task: [{ complexity, task_type: taskType, prompt: 'hello' }] });

/** An answer with the label set of ai:recommended_model_options. */
function optionsAnswer(rows: Array<[string, string, string, string, string, string, string]>) {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: rows.map(([priority, complexity, taskType, model, timeout, temperature, numPredict]) => ({
        metric: { __name__: 'ai:recommended_model_options', priority, complexity, task_type: taskType, model, timeout_seconds: timeout, temperature, num_predict: numPredict },
        value: [1795640873.074, '1'],
      })),
    },
  };
}

describe('n8n workflow', () => {
  it('is the file build-workflow.ts writes, with the Code node from pick-model.js', () => {
    expect(readFileSync(WORKFLOW_FILE, 'utf8')).toBe(workflowText());
    expect(node('Pick model').parameters.jsCode).toBe(readFileSync(PICK_MODEL_FILE, 'utf8'));
  });

  it('has the shape n8n imports: unique names and ids, known node types, connections between existing nodes', () => {
    const names = workflow.nodes.map((n: any) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(workflow.nodes.map((n: any) => n.id)).size).toBe(names.length);
    for (const n of workflow.nodes) {
      expect(n.type).toMatch(/^n8n-nodes-base\.(manualTrigger|set|httpRequest|code)$/);
      expect(typeof n.typeVersion).toBe('number');
      expect(n.position).toHaveLength(2);
    }
    for (const [from, out] of Object.entries(workflow.connections) as Array<[string, any]>) {
      expect(names).toContain(from);
      for (const link of out.main.flat()) expect(names).toContain(link.node);
    }
  });

  it('uses the client query the rules bundle documents and tests live, as scripts/README.md says', () => {
    expect(CLIENT_QUERY).toBe(RECOMMENDATION_QUERY);
    const readme = readFileSync(path.join(__dirname, '../../scripts/README.md'), 'utf8');
    expect(readme).toContain(`\`${CLIENT_QUERY}\``);
    expect(readme).toContain('scripts/n8n/ai-recommended-model.workflow.json');
  });

  it('asks Prometheus with one GET and the documented restart-proof query', () => {
    const ask = node('Ask Prometheus');
    expect(ask.parameters.method).toBe('GET');
    expect(new URL(ask.parameters.url).pathname).toBe('/api/v1/query');
    expect(ask.parameters.queryParameters.parameters).toEqual([{ name: 'query', value: CLIENT_QUERY }]);
    const toPrometheus = workflow.nodes.filter((n: any) => n.type === 'n8n-nodes-base.httpRequest' && /prometheus/.test(n.parameters.url));
    expect(toPrometheus).toHaveLength(1);
  });

  it('sends its Ollama request through the gateway (queued, measured, wakes a stopped Ollama)', () => {
    const ask = node('Ask Ollama');
    expect(ask.parameters.method).toBe('POST');
    const url = new URL(ask.parameters.url);
    expect([url.hostname, url.port, url.pathname]).toEqual(['ollama-gateway', '11434', '/api/generate']);
    const toOllama = workflow.nodes.filter((n: any) => n.type === 'n8n-nodes-base.httpRequest' && /ollama(?!-gateway)[^/]*:11434/.test(n.parameters.url));
    expect(toOllama).toHaveLength(0);
  });

  it('offers the wake call through the receiver, authenticated, off until enabled, never failing the workflow', () => {
    const wake = node('Wake Ollama (optional)');
    expect(wake.parameters.method).toBe('POST');
    expect(new URL(wake.parameters.url).pathname).toBe('/api/v1/targets/ollama/wake');
    expect(wake.parameters.genericAuthType).toBe('httpHeaderAuth');
    expect(wake.disabled).toBe(true);
    expect(wake.onError).toBe('continueRegularOutput');
  });

  it.each([
    ['high', 'analysis', 'qwen2.5:7b', 'optimal_performance', 60_000, { temperature: 0.3, num_predict: 2048 }],
    ['medium', 'general', 'llama3.2:3b', 'optimal_performance', 30_000, { temperature: 0.7, num_predict: 1000 }],
    ['low', 'general', 'phi3:mini', 'optimal_performance', 30_000, { temperature: 0.5, num_predict: 500 }],
  ])('the Code node turns the answer into model, timeout and options (%s/%s)', async (complexity, taskType, model, priority, timeoutMs, options) => {
    const answer = optionsAnswer([
      ['optimal_performance', 'low', 'general', 'phi3:mini', '30', '0.5', '500'],
      ['optimal_performance', 'medium', 'general', 'llama3.2:3b', '30', '0.7', '1000'],
      ['optimal_performance', 'high', 'analysis', 'qwen2.5:7b', '60', '0.3', '2048'],
    ]);
    const [out] = await runCodeNode(node('Pick model').parameters.jsCode, [answer], task(complexity, taskType));
    expect(out.json).toEqual({ model, priority, timeout_ms: timeoutMs, options, complexity, task_type: taskType, prompt: 'hello' });
  });

  it('refuses the duplicated answer of a restarted Prometheus instead of picking one at random (captured)', async () => {
    const answer = fixture('query-recommended_model-after-restart-stale-duplicates.json');
    await expect(runCodeNode(node('Pick model').parameters.jsCode, [answer], task('high', 'analysis')))
      .rejects.toThrow(/expected one recommendation .* got 2/);
  });

  it('refuses an answer without timeout and options (e.g. a bare ai:recommended_model, captured)', async () => {
    const answer = fixture('query-recommended_model-optimal_performance.json');
    await expect(runCodeNode(node('Pick model').parameters.jsCode, [answer], task('high', 'analysis')))
      .rejects.toThrow(/incomplete recommendation/);
  });

  it('says so when Prometheus answers with an error or the pair is unknown', async () => {
    const code = node('Pick model').parameters.jsCode;
    await expect(runCodeNode(code, [{ status: 'error', error: 'parse error' }], task('low', 'general'))).rejects.toThrow(/did not answer/);
    await expect(runCodeNode(code, [optionsAnswer([])], task('huge', 'general'))).rejects.toThrow(/got 0/);
  });
});
