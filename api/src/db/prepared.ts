import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Runs a statement of the request hot path as a named prepared statement: each pooled
 * connection parses and plans it once instead of on every call. For the send-message
 * CTE, planning cost PostgreSQL more than running it. `name` must stand for one fixed
 * SQL text. Outside a transaction only (it takes any connection from the pool).
 */
export async function preparedQuery<T>(db: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  return (await pool.query({ name, text, values })).rows as T[];
}
