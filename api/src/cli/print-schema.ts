/** Writes schema/schema.graphql (client) and schema/admin.graphql (staff) from the code, sorted. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printAdminSchema } from '../admin/admin-schema';
import { printClientSchema } from '../schema';

async function main(): Promise<void> {
  const dir = path.resolve(__dirname, '../../../../schema');
  for (const [file, print] of [['schema.graphql', printClientSchema], ['admin.graphql', printAdminSchema]] as const) {
    const out = path.join(dir, file);
    writeFileSync(out, (await print()) + '\n');
    console.log(`wrote ${out}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
