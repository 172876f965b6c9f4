/**
 * The staff schema bundled into the console, so ra-data-graphql needs no runtime
 * introspection (the API may disable it in production).
 */
import { buildSchema, introspectionFromSchema } from 'graphql';
import sdl from './admin-schema.graphql?raw';

export const adminIntrospection = introspectionFromSchema(buildSchema(sdl)).__schema;
