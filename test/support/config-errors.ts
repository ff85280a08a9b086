import { ConfigError } from '../../receiver/src/config/config-error';
import { parseConfig } from '../../receiver/src/config/load';

/** The errors parseConfig reports for a configuration it must reject (fails the test if it accepts it). */
export function configErrorsOf(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).errors;
  }
  throw new Error('expected the configuration to be rejected');
}
