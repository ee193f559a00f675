/** A command line that cannot be carried out as written: printed as `ERROR: …`, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
