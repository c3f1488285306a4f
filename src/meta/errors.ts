/** A unique constraint refused a write (a duplicate name, id or key). */
export class MetaDuplicateError extends Error {
  constructor(cause: unknown) {
    super(`duplicate entry: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'MetaDuplicateError';
  }
}

/**
 * The database takes a new key for an existing, different one (MySQL's collations ignore
 * trailing spaces, and in databases made by the original, case), so the key cannot be
 * stored without replacing the other key's file.
 */
export class MetaKeyCollisionError extends Error {
  constructor(
    readonly key: string,
    readonly existingKey: string,
  ) {
    super(
      `the database takes key ${JSON.stringify(key)} for the existing key ${JSON.stringify(existingKey)}`,
    );
    this.name = 'MetaKeyCollisionError';
  }
}

/** The database holds a schema this version of mogile cannot use. */
export class MetaSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaSchemaError';
  }
}

/** The database server is set up in a way the store cannot work with (says how to fix it). */
export class MetaServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaServerError';
  }
}
