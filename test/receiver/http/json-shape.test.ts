/** The pre-parse bound on a webhook body's shape (receiver/src/webhook/json-shape.ts). */
import { jsonShapeProblem } from '../../../receiver/src/webhook/json-shape';
import { WEBHOOK_JSON_LIMITS } from '../../../receiver/src/webhook/payload';
import { fixtureBytes, withContractLabels } from '../../../scripts/harness/alertmanager-fixtures';

const limits = { maxDepth: 3, maxPerContainer: 3, maxValues: 10 };
const shape = (text: string) => jsonShapeProblem(Buffer.from(text), limits);

test.each([
  ['{"a":{"b":[1,2,3]}}', undefined],
  ['{"a":{"b":[[1]]}}', 'depth'],
  ['[1,2,3,4]', 'container'],
  ['{"a":1,"b":2,"c":3,"d":4}', 'container'],
  ['[[1,2],[1,2],[1,2],{}]', 'container'],
  ['[[1,2,3],[1,2,3],[1,2]]', 'values'],
  // Structure inside strings, escaped quotes included, is not structure.
  ['{"a":"[[[[,,,,{{{{","b":"\\\\\\"[[[[,,,,"}', undefined],
  ['["\\"",1,2]', undefined],
  // Depth is per nesting, not per container seen: closed containers free their level.
  ['[[[1]],[[1]]]', undefined],
])('%s -> %s', (text, problem) => {
  expect(shape(text)).toBe(problem);
});

test('every captured Alertmanager notification passes the webhook limits', () => {
  for (const name of ['PendingAIWorkflows-firing', 'PendingAIWorkflows-resolved', 'AIServicesIdleTooLong-firing', 'AIServicesIdleTooLong-resolved']) {
    const body = JSON.parse(withContractLabels(fixtureBytes(`${name}.json`), 'start'));
    body.alerts = Array.from({ length: 1000 }, (_, i) => ({ ...body.alerts[0], fingerprint: `f${i}` }));
    expect([name, jsonShapeProblem(Buffer.from(JSON.stringify(body)), WEBHOOK_JSON_LIMITS)]).toEqual([name, undefined]);
  }
});
