/** Compile-time exhaustiveness check for a `switch` over a discriminated union. */
export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
