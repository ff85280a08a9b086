/**
 * Writes ai-recommended-model.workflow.json (the importable n8n workflow) from pick-model.js and the
 * documented client query. Run after changing either: npx tsx scripts/n8n/build-workflow.ts
 * test/e2e checks that the committed JSON matches what this script writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The documented restart-proof client query (rules/README.md, "The client query"): per pair, the row recorded last. */
export const CLIENT_QUERY = 'topk by (complexity, task_type) (1, timestamp(ai:recommended_model_options))';

export const WORKFLOW_FILE = path.join(__dirname, 'ai-recommended-model.workflow.json');
export const PICK_MODEL_FILE = path.join(__dirname, 'pick-model.js');

export function buildWorkflow(): object {
  const jsCode = readFileSync(PICK_MODEL_FILE, 'utf8');
  return {
    name: 'AI: recommended model (ai-dispatcher)',
    nodes: [
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a01', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1,
        position: [0, 0], parameters: {},
      },
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a02', name: 'Task', type: 'n8n-nodes-base.set', typeVersion: 3.4,
        position: [220, 0],
        parameters: {
          assignments: {
            assignments: [
              { id: 'c1', name: 'complexity', value: 'medium', type: 'string' },
              { id: 'c2', name: 'task_type', value: 'general', type: 'string' },
              { id: 'c3', name: 'prompt', value: 'Summarise the last deployment log in three bullet points.', type: 'string' },
            ],
          },
          options: {},
        },
      },
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a03', name: 'Wake Ollama (optional)', type: 'n8n-nodes-base.httpRequest', typeVersion: 4.2,
        position: [440, 0],
        // Off by default: the gateway wakes Ollama on the request itself; enable it only to start Ollama ahead of
        // the request (e.g. while Prometheus is asked) when Ask Ollama bypasses the gateway.
        disabled: true,
        onError: 'continueRegularOutput',
        parameters: {
          method: 'POST',
          url: 'http://ai-dispatcher:9095/api/v1/targets/ollama/wake',
          authentication: 'genericCredentialType',
          genericAuthType: 'httpHeaderAuth',
          sendQuery: true,
          queryParameters: { parameters: [{ name: 'timeout_seconds', value: '120' }] },
          options: { timeout: 125000 },
        },
      },
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a04', name: 'Ask Prometheus', type: 'n8n-nodes-base.httpRequest', typeVersion: 4.2,
        position: [660, 0],
        parameters: {
          method: 'GET',
          url: 'http://prometheus:9090/api/v1/query',
          sendQuery: true,
          queryParameters: { parameters: [{ name: 'query', value: CLIENT_QUERY }] },
          options: { timeout: 5000 },
        },
      },
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a05', name: 'Pick model', type: 'n8n-nodes-base.code', typeVersion: 2,
        position: [880, 0],
        parameters: { mode: 'runOnceForAllItems', language: 'javaScript', jsCode },
      },
      {
        id: '0d6c2a4e-6a51-4d0b-9a55-1c8f0f1e0a06', name: 'Ask Ollama', type: 'n8n-nodes-base.httpRequest', typeVersion: 4.2,
        position: [1100, 0],
        // Through the Ollama gateway (receiver/README.md, "Gateway"): queued, measured, and a stopped Ollama is woken.
        parameters: {
          method: 'POST',
          url: 'http://ollama-gateway:11434/api/generate',
          sendBody: true,
          specifyBody: 'json',
          jsonBody: '={{ JSON.stringify({ model: $json.model, prompt: $json.prompt, stream: false, options: $json.options }) }}',
          options: { timeout: '={{ $json.timeout_ms }}' },
        },
      },
    ],
    connections: {
      Start: { main: [[{ node: 'Task', type: 'main', index: 0 }]] },
      Task: { main: [[{ node: 'Wake Ollama (optional)', type: 'main', index: 0 }]] },
      'Wake Ollama (optional)': { main: [[{ node: 'Ask Prometheus', type: 'main', index: 0 }]] },
      'Ask Prometheus': { main: [[{ node: 'Pick model', type: 'main', index: 0 }]] },
      'Pick model': { main: [[{ node: 'Ask Ollama', type: 'main', index: 0 }]] },
    },
    settings: { executionOrder: 'v1' },
    pinData: {},
  };
}

export function workflowText(): string {
  return JSON.stringify(buildWorkflow(), null, 2) + '\n';
}

if (require.main === module) {
  writeFileSync(WORKFLOW_FILE, workflowText());
  console.log(`wrote ${path.relative(process.cwd(), WORKFLOW_FILE)}`);
}
