/**
 * "Catch me up" (docs/product.md §4): a member asks for a private summary of what they
 * missed in a group. The request is stored with its `ai.catch-up` job in one statement, so
 * a crash loses neither; the job runs the reply pipeline with CatchUpChat and may run
 * more than once (a catch-up already ended is left alone; one a dead process was
 * streaming gives its unit back and starts over).
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { QuotaService } from '../ai/quota.service';
import type { ReplyPipeline } from '../ai/reply/reply-pipeline';
import { ReplyNotHeld } from '../ai/reply/reply-chat';
import type { Config } from '../config/env';
import type { SafetyProfileName } from '../domain/safety/safety-profile';
import type { EventPublisher } from '../events/event-publisher';
import { requireMembership } from '../groups/group.policy';
import { notFound } from '../errors';
import type { RolloutService } from '../rollout/rollout.service';
import type { UserEntity } from '../users/user.entity';
import { USER_COLUMNS } from '../users/user.columns';
import { assertCanWrite } from '../users/user.policy';
import { CatchUpChat } from './catch-up-chat';
import { CATCH_UP_COLUMNS, CatchUpType } from './catch-up.type';

export interface CatchUpDeps {
  db: DataSource;
  config: Config;
  log: Logger;
  quota: QuotaService;
  publisher: EventPublisher;
  rollout: RolloutService;
  pipeline: ReplyPipeline;
  instanceId: string;
}

export class CatchUpService {
  constructor(private readonly d: CatchUpDeps) {}

  /**
   * Starts the viewer's catch-up of a group, or returns the one still under way (one at a
   * time per member: asking again does not start, or charge, a second). NOT_FOUND for a
   * non-member, as for a group that does not exist.
   */
  async start(user: UserEntity, groupId: string): Promise<CatchUpType> {
    assertCanWrite(user);
    await requireMembership(this.d.db.manager, groupId, user.id);
    await this.d.rollout.check(user, 'group_chats_ai');
    try {
      return await this.insert(user.id, groupId);
    } catch (err) {
      // A parallel request inserted first (the unique index on the one under way): that one is the answer.
      if ((err as { code?: string }).code !== '23505') throw err;
      return this.insert(user.id, groupId);
    }
  }

  private async insert(userId: string, groupId: string): Promise<CatchUpType> {
    const [row]: CatchUpType[] = await this.d.db.query(
      `WITH member AS (
         SELECT last_read_seq FROM group_members WHERE group_id = $1 AND user_id = $2),
       running AS (
         SELECT ${CATCH_UP_COLUMNS} FROM catch_ups WHERE group_id = $1 AND user_id = $2 AND status IN ('PENDING', 'STREAMING')),
       c AS (
         INSERT INTO catch_ups (group_id, user_id, after_seq)
         SELECT $1, $2, member.last_read_seq FROM member WHERE NOT EXISTS (SELECT 1 FROM running)
         RETURNING ${CATCH_UP_COLUMNS}),
       j AS (
         SELECT graphile_worker.add_job('ai.catch-up', json_build_object('catchUpId', c.id), max_attempts => 3,
                                        job_key => 'ai.catch-up:' || c.id, job_key_mode => 'unsafe_dedupe') FROM c)
       SELECT c.*, (SELECT count(*) FROM j) AS jobs FROM c
       UNION ALL SELECT running.*, 0 FROM running`,
      [groupId, userId],
    );
    if (!row) throw notFound('Group');
    const { jobs: _jobs, ...catchUp } = row as CatchUpType & { jobs: number };
    return catchUp;
  }

  /** The viewer's newest catch-up of a group, to read again; null when they never asked. */
  async last(userId: string, groupId: string): Promise<CatchUpType | null> {
    const [row]: CatchUpType[] = await this.d.db.query(`SELECT ${CATCH_UP_COLUMNS} FROM catch_ups WHERE group_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 1`, [groupId, userId]);
    return row ?? null;
  }

  /** The `ai.catch-up` job. */
  async run(catchUpId: string): Promise<void> {
    const [row]: Array<CatchUpType & { status: string; responseId: string | null; viewer: UserEntity; group: { safetyProfile: SafetyProfileName; members: Array<{ displayName: string; username: string }> } | null }> =
      await this.d.db.query(
        `SELECT ${CATCH_UP_COLUMNS}, c.response_id AS "responseId",
                (SELECT to_jsonb(u) FROM (SELECT ${USER_COLUMNS} FROM users WHERE id = c.user_id) u) AS viewer,
                (SELECT json_build_object('safetyProfile', g.safety_profile, 'members', coalesce((
                   SELECT json_agg(json_build_object('displayName', u.display_name, 'username', u.username) ORDER BY m.joined_at)
                     FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id), '[]'::json))
                   FROM groups g WHERE g.id = c.group_id AND g.closed_at IS NULL
                    AND EXISTS (SELECT 1 FROM group_members WHERE group_id = c.group_id AND user_id = c.user_id)) AS "group"
           FROM catch_ups c WHERE c.id = $1`,
        [catchUpId],
      );
    if (!row || (row.status !== 'PENDING' && row.status !== 'STREAMING')) return;
    if (row.responseId) {
      // An earlier run died while it streamed: its unit is given back, and this run starts over.
      await this.d.quota.release(row.responseId, 'INTERRUPTED');
      await this.d.db.query(`UPDATE catch_ups SET status = 'PENDING', response_id = NULL WHERE id = $1 AND response_id = $2`, [catchUpId, row.responseId]);
    }
    const { responseId: _r, viewer, group, ...catchUp } = row;
    if (!group) {
      // The member left, or the group closed, before the job ran: nobody to tell, nothing charged.
      await this.d.db.query(`UPDATE catch_ups SET status = 'FAILED', status_reason = 'CANCELLED', completed_at = now() WHERE id = $1 AND status IN ('PENDING', 'STREAMING')`, [catchUpId]);
      return;
    }
    const chat = new CatchUpChat(this.d, catchUp, viewer, group);
    await this.d.pipeline.run(chat).catch((err) => {
      if (!(err instanceof ReplyNotHeld)) throw err;
      this.d.log.warn({ catchUpId }, err.message);
    });
  }
}
