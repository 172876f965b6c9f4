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
    extra: { max: poolSize, application_name: 'roundtable' },
  });
}
