/**
 * A bound on what JSON.parse is asked to build. Within the 1 MiB body limit, JSON.parse alone can spend tens
 * of ms and tens of MB on 340,000 empty objects, 50,000 keys in one object or 170,000 levels of nesting, none
 * of which an Alertmanager notification has (depth 4, at most max_alerts alerts of some dozens of fields).
 * One pass over the raw bytes (strings skipped) refuses such a body before it is parsed.
 */

export interface JsonShapeLimits {
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Members of one object or elements of one array. */
  maxPerContainer: number;
  /** Objects, arrays and members/elements in the whole body. */
  maxValues: number;
}

export type JsonShapeProblem = 'depth' | 'container' | 'values';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/** The first limit the body exceeds, or undefined. Malformed JSON is left to JSON.parse. */
export function jsonShapeProblem(bytes: Uint8Array, limits: JsonShapeLimits): JsonShapeProblem | undefined {
  const counts = new Uint32Array(limits.maxDepth + 1);
  let depth = 0;
  let values = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      // Skip the string; a backslash escapes the next byte (multi-byte UTF-8 never contains 0x22 or 0x5c).
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > limits.maxDepth) return 'depth';
      counts[depth] = 1;
      if (++values > limits.maxValues) return 'values';
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      if (depth > 0) depth--;
    } else if (b === COMMA) {
      if (depth > 0 && ++counts[depth]! > limits.maxPerContainer) return 'container';
      if (++values > limits.maxValues) return 'values';
    }
  }
  return undefined;
}
