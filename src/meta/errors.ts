/** A unique constraint refused a write (a duplicate name, id or key). */
export class MetaDuplicateError extends Error {
  constructor(cause: unknown) {
    super(`duplicate entry: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'MetaDuplicateError';
  }
}

/** The database holds a schema this version of mogile cannot use. */
export class MetaSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaSchemaError';
  }
}
