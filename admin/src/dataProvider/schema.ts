/**
 * The staff schema bundled into the console, so ra-data-graphql needs no runtime
 * introspection (the API may disable it in production).
 */
import { buildSchema, introspectionFromSchema } from 'graphql';
// The generated snapshot the API is tested against (npm run schema:print).
import sdl from '../../../schema/admin.graphql?raw';

export const adminIntrospection = introspectionFromSchema(buildSchema(sdl)).__schema;

/** The values of an enum of the staff schema, so the console's choices follow the API. */
export function enumValues(name: string): string[] {
  const type = adminIntrospection.types.find((t) => t.name === name);
  if (!type || type.kind !== 'ENUM') throw new Error(`the staff schema has no enum ${name}`);
  return type.enumValues.map((v) => v.name);
}
