import { DedupeWindow } from '../../../receiver/src/intake/dedupe';

describe('DedupeWindow', () => {
  test('a key is a duplicate within the window and fresh after it', () => {
    const d = new DedupeWindow(1000);
    d.remember('k', 'ollama', 0);
    expect(d.has('k', 999)).toBe(true);
    expect(d.has('k', 1000)).toBe(false);
    expect(d.has('other', 10)).toBe(false);
  });

  test('forgetting a key (an action that was suppressed) drops only that key', () => {
    const d = new DedupeWindow(1000);
    d.remember('stop', 'ollama', 0);
    d.remember('start', 'ollama', 0);
    d.forget('stop');
    expect(d.has('stop', 1)).toBe(false);
    expect(d.has('start', 1)).toBe(true);
  });

  test('forgetting a target drops only its keys', () => {
    const d = new DedupeWindow(1000);
    d.remember('a', 'ollama', 0);
    d.remember('b', 'embeddings', 0);
    d.forgetTarget('ollama');
    expect(d.has('a', 1)).toBe(false);
    expect(d.has('b', 1)).toBe(true);
  });

  test('bounded: the oldest entries go first', () => {
    const d = new DedupeWindow(60_000, 3);
    for (const k of ['1', '2', '3', '4']) d.remember(k, 't', 0);
    expect(d.size).toBe(3);
    expect(d.has('1', 1)).toBe(false);
    expect(d.has('4', 1)).toBe(true);
  });

  test('a zero window remembers nothing', () => {
    const d = new DedupeWindow(0);
    d.remember('k', 't', 0);
    expect(d.has('k', 0)).toBe(false);
  });
});
