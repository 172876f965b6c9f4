/**
 * The staff schema bundled into the console, so ra-data-graphql needs no runtime
 * introspection (the API may disable it in production).
 */
import { buildSchema, introspectionFromSchema } from 'graphql';
// The generated snapshot the API is tested against (npm run schema:print).
import sdl from '../../../schema/admin.graphql?raw';

export const adminIntrospection = introspectionFromSchema(buildSchema(sdl)).__schema;
