/** Every problem found in a configuration, reported together. */
export class ConfigError extends Error {
  /**
   * authDisabled: whether the rejected file disables auth (`auth: {disabled: true}`), when it could be read; the
   * receiver then knows whether a missing token is a problem too.
   */
  constructor(readonly source: string, readonly errors: string[], readonly authDisabled?: boolean) {
    super(`invalid configuration ${source}:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
