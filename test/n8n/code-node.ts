/**
 * Runs an n8n Code node's JavaScript ("Run Once for All Items") outside n8n: n8n wraps the code in an
 * async function that sees `$input` (this node's input items) and `$('Node')` (another node's items).
 */
export interface NodeItems { [node: string]: Array<Record<string, unknown>> }

export async function runCodeNode(jsCode: string, input: Array<Record<string, unknown>>, otherNodes: NodeItems): Promise<Array<{ json: any }>> {
  const items = (list: Array<Record<string, unknown>>) => ({
    first: () => ({ json: list[0] }),
    last: () => ({ json: list[list.length - 1] }),
    all: () => list.map((json) => ({ json })),
  });
  const $input = items(input);
  const $ = (name: string) => {
    const list = otherNodes[name];
    if (!list) throw new Error(`the code refers to node "${name}", which the test did not provide`);
    return items(list);
  };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
  const fn = new AsyncFunction('$input', '$', 'items', jsCode);
  return fn($input, $, $input.all());
}
