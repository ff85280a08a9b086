/** An error the user can act on: the message says what went wrong and what to do. Exit code 1. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}
