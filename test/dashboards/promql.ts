/** PromQL inspection with Prometheus's own lezer grammar: syntax errors, metric names, range windows. */
import { parser } from '@prometheus-io/lezer-promql';

interface Node {
  name: string;
  from: number;
  to: number;
  isError: boolean;
}

function nodes(expr: string): Node[] {
  const out: Node[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      out.push({ name: node.type.name, from: node.from, to: node.to, isError: node.type.isError });
    },
  });
  return out;
}

/** Positions and text around every error node; empty when the expression parses. */
export function syntaxErrors(expr: string): string[] {
  if (expr.trim() === '') return ['empty expression'];
  return nodes(expr)
    .filter((node) => node.isError)
    .map((node) => `at ${node.from}: ...${expr.slice(Math.max(0, node.from - 15), node.from + 15)}...`);
}

/** Metric names a query selects: `name{...}` and `{__name__="name"}`. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.name === 'Identifier' && node.node.parent?.type.name === 'VectorSelector') {
        names.add(expr.slice(node.from, node.to));
      }
      if (node.type.name === 'UnquotedLabelMatcher') {
        const text = expr.slice(node.from, node.to);
        const match = /^__name__\s*=\s*"([^"]+)"$/.exec(text);
        if (match) names.add(match[1]);
      }
    },
  });
  return [...names];
}

const RANGE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

/** For each rate()/irate()/increase() call, the function and the text of its range window. */
export function rangeFunctionWindows(expr: string): { fn: string; window: string }[] {
  const out: { fn: string; window: string }[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.name !== 'FunctionCall') return;
      const identifier = node.node.getChild('FunctionIdentifier');
      if (!identifier) return;
      const fn = expr.slice(identifier.from, identifier.to);
      if (!RANGE_FUNCTIONS.has(fn)) return;
      const body = node.node.getChild('FunctionCallBody');
      let window = '';
      body?.toTree().iterate({
        enter(inner) {
          if (window === '' && inner.type.name === 'DurationExpr') {
            window = expr.slice(body.from + inner.from, body.from + inner.to);
          }
        },
      });
      out.push({ fn, window });
    },
  });
  return out;
}

export interface Selector {
  name: string;
  /** label -> [operator, value] for the selector's matchers */
  matchers: Map<string, [string, string]>;
}

/** Every instant/range vector selector with its metric name and label matchers. */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.name !== 'VectorSelector') return;
      const identifier = node.node.getChild('Identifier');
      const selector: Selector = {
        name: identifier ? expr.slice(identifier.from, identifier.to) : '',
        matchers: new Map(),
      };
      const matchers = node.node.getChild('LabelMatchers');
      for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const op = matcher.getChild('MatchOp');
        const value = matcher.getChild('StringLiteral');
        if (!label || !op || !value) continue;
        selector.matchers.set(expr.slice(label.from, label.to), [
          expr.slice(op.from, op.to),
          JSON.parse(expr.slice(value.from, value.to).replace(/^'|'$/g, '"')) as string,
        ]);
      }
      if (selector.name === '' && selector.matchers.get('__name__')?.[0] === '=') {
        selector.name = selector.matchers.get('__name__')![1];
      }
      out.push(selector);
    },
  });
  return out;
}
