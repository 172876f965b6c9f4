/**
 * What a group's AI reply reads: the message answered with its author, and the group with
 * its members and recent history, in one statement each.
 */
import type { DataSource } from 'typeorm';
import { preparedQuery } from '../db/prepared';
import type { AiMode } from '../domain/ai-mode';
import { payerOf } from '../domain/quota/settlement';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import type { MessageEntity } from '../messages/message.entity';
import type { MessageType } from '../messages/message.type';
import { loadMessageViews } from '../messages/message.views';
import { MESSAGE_COLUMNS } from '../messages/send-statement';
import { USER_COLUMNS } from '../users/user.columns';
import type { UserEntity } from '../users/user.entity';

const HISTORY_MESSAGES = 40;

export interface GroupState {
  aiMode: AiMode;
  safetyProfile: SafetyProfileName;
  customInstructions: string;
  closed: boolean;
  /** The rollout rules' version, read with the group: the AI's rollout check then needs no query of its own. */
  rolloutVersion: number;
  members: Array<{ id: string; displayName: string; username: string }>;
  /** Messages before and including the trigger, oldest first. */
  history: Array<{ id: string; seq: number; kind: 'USER' | 'AI' | 'SYSTEM'; authorId: string | null; authorUsername: string | null; body: string; status: string; mentionsAi: boolean }>;
}

/**
 * The message answered, as the API shows it, and the user who pays for the reply (its
 * author: payerOf); null when it is gone or nobody may pay for a reply to it.
 */
export async function loadTrigger(db: DataSource, messageId: string): Promise<{ trigger: MessageType; author: UserEntity } | null> {
  const rows: MessageEntity[] = await db.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND deleted_at IS NULL`, [messageId]);
  const payer = rows.length === 0 ? null : payerOf({ chat: 'GROUP', kind: rows[0].kind, authorId: rows[0].authorId });
  if (!payer) return null;
  const [author]: UserEntity[] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [payer]);
  if (!author) return null;
  const [trigger] = await loadMessageViews(db.manager, rows);
  return { trigger, author };
}

/** The group with its members and the history up to `uptoSeq`; with the AI off, neither list. */
export async function loadGroup(db: DataSource, groupId: string, uptoSeq: number): Promise<GroupState | null> {
  const [g] = await preparedQuery<GroupState>(
    db,
    'ai-load-group',
    `SELECT g.ai_mode AS "aiMode", g.safety_profile AS "safetyProfile", g.custom_instructions AS "customInstructions", g.closed_at IS NOT NULL AS closed,
            (SELECT version FROM rollout_state)::float8 AS "rolloutVersion",
            CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
              SELECT json_agg(json_build_object('id', u.id, 'displayName', u.display_name, 'username', u.username) ORDER BY m.joined_at)
                FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id), '[]'::json) END AS members,
            CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
              SELECT json_agg(json_build_object('id', r.id, 'seq', r.seq, 'kind', r.kind, 'authorId', r.author_id, 'authorUsername', a.username, 'body', r.body, 'status', r.status, 'mentionsAi', r.mentions_ai) ORDER BY r.seq)
                FROM (SELECT * FROM messages WHERE group_id = g.id AND seq <= $2 AND status IN ('SENT', 'COMPLETED') ORDER BY seq DESC LIMIT $3) r
                LEFT JOIN users a ON a.id = r.author_id), '[]'::json) END AS history
       FROM groups g WHERE g.id = $1`,
    [groupId, uptoSeq, HISTORY_MESSAGES],
  );
  return g ?? null;
}
