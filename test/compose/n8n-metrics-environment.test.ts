/**
 * The n8n variables of docker-compose.override.yml against what the rules select: n8n 2.8.4 adds the
 * workflow_name label to its event-bus counters only with N8N_METRICS_INCLUDE_WORKFLOW_NAME_LABEL=true
 * (test/fixtures/n8n-2.8.4/event-bus-labels-and-restart.txt, environment A: workflow_id only).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { environmentOf, loadInterpolated, repoRoot } from './compose-file';

const n8n = environmentOf(loadInterpolated().services.n8n);
const rules = yaml.load(readFileSync(path.join(repoRoot, 'rules/ai-dispatcher.rules.yml'), 'utf8')) as {
  groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
};
const pending = rules.groups.flatMap((g) => g.rules).find((r) => r.record === 'ai:n8n_pending_ai_work:sum')!;
const capture = readFileSync(path.join(repoRoot, 'test/fixtures/n8n-2.8.4/event-bus-labels-and-restart.txt'), 'utf8');

describe('n8n environment of docker-compose.override.yml', () => {
  it('turns on the event-bus counters and the queue metrics', () => {
    for (const name of ['N8N_METRICS', 'N8N_METRICS_INCLUDE_QUEUE_METRICS', 'N8N_METRICS_INCLUDE_MESSAGE_EVENT_BUS_METRICS']) {
      expect([name, n8n[name]]).toEqual([name, 'true']);
    }
  });

  it('adds the workflow_name label that the pending-work rule selects AI workflows by', () => {
    expect(pending.expr).toMatch(/n8n_workflow_started_total\{[^}]*workflow_name=~/);
    // The capture: with the id label alone the counters carry no workflow_name.
    expect(capture).toMatch(/^n8n_workflow_started_total\{workflow_id="[^"]+"\} \d+$/m);
    expect(n8n.N8N_METRICS_INCLUDE_WORKFLOW_NAME_LABEL).toBe('true');
  });
});
