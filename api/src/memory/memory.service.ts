/**
 * Personal memory (docs/product.md §5): facts a person asked the AI to keep. Only this folder
 * and api/src/conversations touch the `memories` table; group code never imports them,
 * which is the hard wall between group chats and anyone's memory.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { assertCanWrite } from '../users/user.policy';
import { badInput, DomainError, notFound } from '../errors';
import { isUuid } from '../groups/group.policy';
import type { UserEntity } from '../users/user.entity';
import { MemorySourceEnum, MemoryType } from './memory.type';

/** Saved facts per person. */
export const MAX_MEMORIES = 200;
export const MAX_MEMORY_TEXT = 500;

const MEMORY_COLUMNS = `id, text, source, conversation_id AS "conversationId", created_at AS "createdAt"`;

export interface SaveMemoryInput {
  text: string;
  source: MemorySourceEnum;
  conversationId?: string | null;
}

export type SaveOutcome = { ok: true; memory: MemoryType; created: boolean } | { ok: false; reason: 'FULL' };

/** Lists, adds and deletes a person's saved facts; every read and write is scoped to the owner. */
export class MemoryService {
  constructor(private readonly db: DataSource) {}

  /** The caller's facts, newest first. */
  list(user: UserEntity): Promise<MemoryType[]> {
    return this.db.query(`SELECT ${MEMORY_COLUMNS} FROM memories WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [user.id]);
  }

  /** Texts for the owner's private prompt, newest first (a newer fact may correct an older one). */
  async textsForPrompt(userId: string, db: EntityManager = this.db.manager): Promise<string[]> {
    const rows: Array<{ text: string }> = await db.query(
      `SELECT text FROM memories WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [userId, MAX_MEMORIES],
    );
    return rows.map((r) => r.text);
  }

  async add(user: UserEntity, rawText: string): Promise<MemoryType> {
    assertCanWrite(user);
    const text = validMemoryText(rawText);
    const outcome = await this.db.transaction((tx) => this.save(tx, user.id, { text, source: MemorySourceEnum.MANUAL }));
    if (!outcome.ok) {
      throw new DomainError('BAD_USER_INPUT', `Memory is full: at most ${MAX_MEMORIES} facts; delete one first`, { field: 'text', reason: 'MEMORY_FULL' });
    }
    return outcome.memory;
  }

  /** Deleting is allowed even while suspended: it is the person's own data. */
  async delete(user: UserEntity, id: string): Promise<boolean> {
    if (!isUuid(id)) throw notFound('Memory');
    const rows: unknown[] = await this.db.query(
      `WITH d AS (DELETE FROM memories WHERE id = $1 AND user_id = $2 RETURNING 1) SELECT * FROM d`,
      [id, user.id],
    );
    if (rows.length === 0) throw notFound('Memory');
    return true;
  }

  /**
   * Saves a validated fact inside the caller's transaction. The same text saved twice (ignoring case)
   * returns the existing fact. The per-user limit holds under concurrency through a
   * transaction-scoped advisory lock on the owner (not the users row, which every
   * request's identity upsert may touch).
   */
  async save(tx: EntityManager, userId: string, input: SaveMemoryInput): Promise<SaveOutcome> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('memories:' || $1::text, 0))`, [userId]);
    const [same]: MemoryType[] = await tx.query(`SELECT ${MEMORY_COLUMNS} FROM memories WHERE user_id = $1 AND lower(text) = lower($2) LIMIT 1`, [userId, input.text]);
    if (same) return { ok: true, memory: same, created: false };
    const [{ n }]: Array<{ n: number }> = await tx.query(`SELECT count(*)::int AS n FROM memories WHERE user_id = $1`, [userId]);
    if (n >= MAX_MEMORIES) return { ok: false, reason: 'FULL' };
    const [memory]: MemoryType[] = await tx.query(
      `INSERT INTO memories (user_id, text, source, conversation_id) VALUES ($1, $2, $3, $4) RETURNING ${MEMORY_COLUMNS}`,
      [userId, input.text, input.source, input.conversationId ?? null],
    );
    return { ok: true, memory, created: true };
  }
}

/** 1 to 500 characters after trimming, no NUL (PostgreSQL text cannot hold it). */
export function validMemoryText(raw: string): string {
  const text = raw.trim();
  if (text.length === 0) throw badInput('text must not be empty', 'text');
  if (text.includes('\u0000')) throw badInput('text must not contain NUL characters', 'text');
  if ([...text].length > MAX_MEMORY_TEXT) throw badInput(`text must be at most ${MAX_MEMORY_TEXT} characters`, 'text');
  return text;
}
