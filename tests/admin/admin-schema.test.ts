import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printAdminSchema } from '../../api/src/admin/admin-schema';
import { printClientSchema } from '../../api/src/schema';

const read = (file: string) => readFileSync(path.resolve(__dirname, '../../schema', file), 'utf8');

it('keeps schema/admin.graphql identical to the staff schema built from the code', async () => {
  const fromCode = (await printAdminSchema()) + '\n';
  if (fromCode !== read('admin.graphql')) throw new Error('schema/admin.graphql is stale: run npm run schema:print');
});

it('building the staff schema leaves the client schema as checked in (its User and ModelResponse are other classes)', async () => {
  await printAdminSchema();
  expect((await printClientSchema()) + '\n').toBe(read('schema.graphql'));
});

it('the staff schema offers no group or message listing: staff see content only through cases', async () => {
  const sdl = await printAdminSchema();
  expect(sdl).not.toMatch(/^\s+(all)?(Groups?|Messages?)\b/m);
  expect(sdl).not.toMatch(/type Group\b/);
});
