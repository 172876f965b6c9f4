/**
 * A GraphQL enum (for `registerEnumType`) from the domain's list of names. Each value is
 * its own name, so the domain's union is the enum's type and no second copy of it exists.
 */
export function enumOf<T extends string>(values: readonly T[]): { readonly [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}
