import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLObjectType, isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { clientSchema, printClientSchema } from '../api/src/schema';

const CHECKED_IN = path.resolve(__dirname, '../schema/schema.graphql');

it('keeps schema/schema.graphql identical to the schema built from the code', async () => {
  const fromCode = (await printClientSchema()) + '\n';
  const checkedIn = readFileSync(CHECKED_IN, 'utf8');
  if (fromCode !== checkedIn) {
    throw new Error(`schema/schema.graphql is stale: run npm run schema:print\n\n${firstDifference(checkedIn, fromCode)}`);
  }
});

/** The first differing line, so the failure says where without dumping two schemas. */
function firstDifference(checkedIn: string, fromCode: string): string {
  const a = checkedIn.split('\n');
  const b = fromCode.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  checked in: ${a[i] ?? '<end of file>'}\n  from code:  ${b[i] ?? '<end of file>'}`;
  }
  return '';
}

it("reads plain fields with graphql's default resolver, wrapping only the fields that have resolvers", async () => {
  // type-graphql otherwise wraps every field of an object type in its middleware chain: for a
  // page of 100 messages, over a thousand calls that only read a property.
  const schema = await clientSchema();
  const storage = getMetadataStorage();
  const typeName = (target: unknown) => storage.objectTypes.find((o) => o.target === target)?.name;
  const resolved = new Set(storage.fieldResolvers.map((f) => `${typeName(f.getObjectType?.())}.${f.schemaName}`));
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((t) => t?.name));
  const wrapped: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || roots.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve && !resolved.has(`${type.name}.${field.name}`)) wrapped.push(`${type.name}.${field.name}`);
    }
  }
  expect(resolved.has('Message.modelResponse')).toBe(true);
  expect(schema.getType('Message') && (schema.getType('Message') as GraphQLObjectType).getFields().modelResponse.resolve).toBeDefined();
  expect(wrapped).toEqual([]);
});
