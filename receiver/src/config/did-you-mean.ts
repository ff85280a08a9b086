/**
 * The known key an unknown one was probably meant to be: one within a small edit distance (a typo, a swapped pair of
 * letters), or the only known key that starts with it followed by "_" (`timeout` for `timeout_seconds`).
 */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  const word = unknown.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(word, key.toLowerCase());
    if (distance <= Math.max(2, Math.floor(key.length / 4)) && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  if (best !== undefined) return best.key;
  const extended = known.filter((key) => key.toLowerCase().startsWith(`${word}_`));
  return extended.length === 1 ? extended[0] : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of adjacent letters. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
