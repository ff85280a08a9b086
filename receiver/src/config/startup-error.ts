/** Everything that keeps the receiver from starting, grouped by where it comes from, reported together. */
export interface StartupProblem {
  /** "configuration file PATH", "--listen", "environment". */
  source: string;
  errors: string[];
}

export class StartupError extends Error {
  constructor(readonly problems: StartupProblem[]) {
    const count = problems.reduce((n, p) => n + p.errors.length, 0);
    const lines = problems.flatMap((p) => [`  ${p.source}:`, ...p.errors.map((e) => `    - ${e}`)]);
    super([`cannot start: ${count} problem${count === 1 ? '' : 's'}`, ...lines].join('\n'));
    this.name = 'StartupError';
  }
}
