/** Writes schema/schema.graphql from the code (sorted). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printClientSchema } from '../schema';

printClientSchema()
  .then((sdl) => {
    const out = path.resolve(__dirname, '../../../../schema/schema.graphql');
    writeFileSync(out, sdl + '\n');
    console.log(`wrote ${out}`);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
