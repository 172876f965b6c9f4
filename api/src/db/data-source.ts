import path from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';

/** TypeORM data source. The schema comes only from the migrations, never from entities. */
export function createDataSource(url: string, poolSize = 20): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [path.join(__dirname, '../../../migrations/*.{js,ts}')],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      max: poolSize,
      application_name: 'roundtable',
      // The hot-path statements are prepared per connection (db/prepared.ts) and look rows up
      // by key, where the generic plan is the plan. PostgreSQL would otherwise plan each of the
      // first five executions on every pooled connection again: in bench:ai that cut
      // PostgreSQL's CPU per AI reply by a fifth.
      options: '-c plan_cache_mode=force_generic_plan',
    },
  });
}
