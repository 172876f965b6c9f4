/**
 * What a group's AI reply reads, in one statement: the message answered, the user who pays
 * for the reply (its author: payerOf), and the group with its members and recent history.
 * Every `ai.respond` job starts here, so it is one round trip, not four.
 */
import type { DataSource } from 'typeorm';
import { preparedQuery } from '../db/prepared';
import type { AiMode } from '../domain/ai-mode';
import { payerOf } from '../domain/quota/settlement';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import { userFromJson } from '../messages/send-statement';
import { USER_COLUMNS } from '../users/user.columns';
import type { UserEntity } from '../users/user.entity';

export const HISTORY_MESSAGES = 40;

/** The message a reply answers, as the AI's decision reads it. */
export interface ReplyTrigger {
  id: string;
  groupId: string;
  seq: number;
  body: string;
  mentionsAi: boolean;
  /** The members it @mentions, by username. */
  mentionUsernames: string[];
  authorUsername: string | null;
}

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

export interface ReplySetting {
  trigger: ReplyTrigger;
  payer: UserEntity;
  group: GroupState;
}

type Row = ReplyTrigger & GroupState & { kind: 'USER' | 'AI' | 'SYSTEM'; authorId: string | null; author: Record<string, unknown> | null };

/** The statement behind loadReplySetting: $1 the message answered, $2 how many messages of history. */
export const LOAD_REPLY_SETTING = `SELECT m.id, m.group_id AS "groupId", m.seq::int AS seq, m.kind, m.author_id AS "authorId", m.body, m.mentions_ai AS "mentionsAi",
        coalesce((SELECT array_agg(u.username ORDER BY array_position(m.mention_user_ids, u.id)) FROM users u WHERE u.id = ANY(m.mention_user_ids)), '{}') AS "mentionUsernames",
        (SELECT to_jsonb(a) FROM (SELECT ${USER_COLUMNS} FROM users WHERE id = m.author_id) a) AS author,
        g.ai_mode AS "aiMode", g.safety_profile AS "safetyProfile", g.custom_instructions AS "customInstructions", g.closed_at IS NOT NULL AS closed,
        (SELECT version FROM rollout_state)::float8 AS "rolloutVersion",
        CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
          SELECT json_agg(json_build_object('id', u.id, 'displayName', u.display_name, 'username', u.username) ORDER BY gm.joined_at)
            FROM group_members gm JOIN users u ON u.id = gm.user_id WHERE gm.group_id = g.id), '[]'::json) END AS members,
        CASE WHEN g.ai_mode = 'OFF' THEN '[]'::json ELSE coalesce((
          SELECT json_agg(json_build_object('id', r.id, 'seq', r.seq, 'kind', r.kind, 'authorId', r.author_id, 'authorUsername', a.username, 'body', r.body, 'status', r.status, 'mentionsAi', r.mentions_ai) ORDER BY r.seq)
            FROM (SELECT * FROM messages h WHERE h.group_id = g.id AND h.seq <= m.seq AND h.status IN ('SENT', 'COMPLETED') ORDER BY h.seq DESC LIMIT $2) r
            LEFT JOIN users a ON a.id = r.author_id), '[]'::json) END AS history
   FROM messages m JOIN groups g ON g.id = m.group_id
  WHERE m.id = $1 AND m.deleted_at IS NULL`;

/** The reply's trigger, payer and group; null when the message is gone or nobody may pay for a reply to it. */
export async function loadReplySetting(db: DataSource, messageId: string): Promise<ReplySetting | null> {
  const [row] = await preparedQuery<Row>(
    db,
    'ai-load-reply',
    LOAD_REPLY_SETTING,
    [messageId, HISTORY_MESSAGES],
  );
  if (!row || !row.author || payerOf({ chat: 'GROUP', kind: row.kind, authorId: row.authorId }) !== row.authorId) return null;
  const payer = userFromJson(row.author);
  const { id, groupId, seq, body, mentionsAi, mentionUsernames, aiMode, safetyProfile, customInstructions, closed, rolloutVersion, members, history } = row;
  return {
    trigger: { id, groupId, seq, body, mentionsAi, mentionUsernames, authorUsername: payer.username },
    payer,
    group: { aiMode, safetyProfile, customInstructions, closed, rolloutVersion, members, history },
  };
}
