// n8n Code node "Pick model" (mode: Run Once for All Items). Source of the node's jsCode in
// ai-recommended-model.workflow.json (scripts/n8n/build-workflow.ts copies it there; a test checks they match).
// Input: the Prometheus answer to the recommendation query (node "Ask Prometheus").
// Output: one item with model, timeout_ms and options for Ollama's /api/generate, plus the task.
const task = $('Task').first().json;
const answer = $input.first().json;
if (!answer || answer.status !== 'success') {
  throw new Error('Prometheus did not answer the recommendation query: ' + JSON.stringify(answer).slice(0, 300));
}
const rows = answer.data.result.filter(
  (s) => s.metric.complexity === task.complexity && s.metric.task_type === task.task_type,
);
if (rows.length !== 1) {
  throw new Error(
    'expected one recommendation for complexity=' + task.complexity + ' task_type=' + task.task_type +
    ', got ' + rows.length + ' (are the ai-dispatcher rules loaded? complexity is low|medium|high, task_type analysis|general)',
  );
}
const m = rows[0].metric;
const timeoutSeconds = Number(m.timeout_seconds);
const temperature = Number(m.temperature);
const numPredict = Number(m.num_predict);
if (!m.model || !(timeoutSeconds > 0) || !Number.isFinite(temperature) || !(numPredict > 0)) {
  throw new Error('incomplete recommendation: ' + JSON.stringify(m));
}
return [{
  json: {
    model: m.model,
    priority: m.priority,
    timeout_ms: timeoutSeconds * 1000,
    options: { temperature: temperature, num_predict: numPredict },
    complexity: task.complexity,
    task_type: task.task_type,
    prompt: task.prompt,
  },
}];
