/** Number formats shared by the renderers and the suggestions. */
export function bytes(n: number): string {
  const gib = n / 2 ** 30;
  if (Math.abs(gib) >= 1) return `${trim(gib)} GiB`;
  return `${trim(n / 2 ** 20)} MiB`;
}

export function duration(seconds: number): string {
  if (seconds >= 86400) return `${trim(seconds / 86400)} d`;
  if (seconds >= 3600) return `${trim(seconds / 3600)} h`;
  if (seconds >= 60) return `${trim(seconds / 60)} min`;
  return `${trim(seconds)} s`;
}

export function percent(ratio: number): string {
  return `${trim(ratio * 100)} %`;
}

export function count(n: number): string {
  return Number.isInteger(n) ? String(n) : trim(n);
}

/** At most 2 decimals for small numbers, 1 above 10, none above 100; no trailing zeros. */
export function trim(n: number): string {
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return String(Number(n.toFixed(digits)));
}
