import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printClientSchema } from '../api/src/schema';

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
