import { unitOfWork, UnitOfWork } from '../../api/src/db/unit-of-work';
import { ephemeralEvent, GroupEventKind, GroupEventType } from '../../api/src/events/group-event.type';
import { lastSeq, startApi, TestApi, TestUser } from '../support/harness';

let api: TestApi;
let owner: TestUser;
beforeAll(async () => {
  api = await startApi();
  owner = await api.user();
});
afterAll(() => api.stop());

const run = <T>(work: (uow: UnitOfWork) => Promise<T>) => unitOfWork(api.app.services.db, api.app.services.publisher, work);

/** Everything the bus carries for a group, as the feeds hear it. */
async function listen(groupId: string): Promise<{ seen: GroupEventType[]; stop: () => void }> {
  const seen: GroupEventType[] = [];
  const stop = await api.app.services.bus.subscribe(groupId, (e) => seen.push(e));
  return { seen, stop };
}

const updated = (uow: UnitOfWork, groupId: string, label: string) =>
  uow.append({ groupId, type: GroupEventKind.GROUP_UPDATED, actorId: owner.id, data: { changed: [label] } });
const notice = (groupId: string, label: string) => ephemeralEvent(groupId, GroupEventKind.QUOTA_NOTICE, { notice: { code: label, message: label, resetsAt: null, messageId: null } } as Partial<GroupEventType>);
const describeEvent = (e: GroupEventType) => (e.seq === null ? `ephemeral:${(e as { notice?: { code: string } }).notice?.code}` : `seq:${e.seq}`);

/** A committed unit that publishes one marker: once it is heard, anything published before it has been too. */
async function marker(groupId: string, seen: GroupEventType[]): Promise<void> {
  await run(async (uow) => uow.publish([notice(groupId, 'marker')]));
  expect(seen.map(describeEvent)).toContain('ephemeral:marker');
}

describe('unit of work', () => {
  it('publishes nothing before the commit, then everything in the order it was recorded, and returns the work value', async () => {
    const groupId = await api.group(owner);
    const base = await lastSeq(api, groupId);
    const { seen, stop } = await listen(groupId);
    const value = await run(async (uow) => {
      await updated(uow, groupId, 'a');
      uow.publish([notice(groupId, 'between')]);
      await updated(uow, groupId, 'b');
      const order: string[] = [];
      uow.afterCommit('hook', () => void order.push('hook'));
      // A query on the transaction lets any premature publication run before this check.
      await uow.tx.query('SELECT 1');
      expect(seen).toEqual([]);
      return 'done';
    });
    stop();
    expect(value).toBe('done');
    expect(seen.map(describeEvent)).toEqual([`seq:${base + 1}`, 'ephemeral:between', `seq:${base + 2}`]);
    expect(seen[0].type).toBe(GroupEventKind.GROUP_UPDATED);
  });

  it('runs after-commit hooks after the commit, in order with the events', async () => {
    const groupId = await api.group(owner);
    const { seen, stop } = await listen(groupId);
    const trace: string[] = [];
    await run(async (uow) => {
      await updated(uow, groupId, 'a');
      uow.afterCommit('first', async () => {
        // The hook sees the transaction's rows committed, from another connection.
        const [row] = await api.query(`SELECT count(*)::int AS n FROM group_events WHERE group_id = $1 AND data->'changed' ? 'a'`, [groupId]);
        trace.push(`first:${row.n}:${seen.length}`);
      });
      uow.publish([notice(groupId, 'x')]);
      uow.afterCommit('second', () => void trace.push(`second:${seen.length}`));
    });
    stop();
    expect(trace).toEqual(['first:1:1', 'second:2']);
  });

  it('a hook that throws after the commit does not fail the call or stop the effects after it', async () => {
    const groupId = await api.group(owner);
    const { seen, stop } = await listen(groupId);
    const value = await run(async (uow) => {
      uow.afterCommit('broken', () => {
        throw new Error('hook failed');
      });
      await updated(uow, groupId, 'after-hook');
      return 42;
    });
    stop();
    expect(value).toBe(42);
    expect(seen.map((e) => e.type)).toEqual([GroupEventKind.GROUP_UPDATED]);
  });

  it('publishes nothing and runs no hook when the work throws, and the events roll back', async () => {
    const groupId = await api.group(owner);
    const base = await lastSeq(api, groupId);
    const { seen, stop } = await listen(groupId);
    let hookRan = false;
    await expect(
      run(async (uow) => {
        await updated(uow, groupId, 'a');
        uow.publish([notice(groupId, 'rolled-back')]);
        uow.afterCommit('hook', () => void (hookRan = true));
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    await marker(groupId, seen);
    stop();
    expect(seen.map(describeEvent)).toEqual(['ephemeral:marker']);
    expect(hookRan).toBe(false);
    expect(await lastSeq(api, groupId)).toBe(base);
  });

  it('publishes nothing when the commit itself fails', async () => {
    const groupId = await api.group(owner);
    await api.query(`CREATE TABLE IF NOT EXISTS uow_commit_check (id int, CONSTRAINT uow_commit_check_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`);
    const { seen, stop } = await listen(groupId);
    let hookRan = false;
    await expect(
      run(async (uow) => {
        await updated(uow, groupId, 'a');
        uow.afterCommit('hook', () => void (hookRan = true));
        // Checked only at COMMIT: the work returns normally and the commit is refused.
        await uow.tx.query(`INSERT INTO uow_commit_check (id) VALUES (1), (1)`);
      }),
    ).rejects.toThrow(/uow_commit_check_once/);
    await marker(groupId, seen);
    stop();
    expect(seen.map(describeEvent)).toEqual(['ephemeral:marker']);
    expect(hookRan).toBe(false);
  });

  it('refuses to record once the transaction has ended', async () => {
    const groupId = await api.group(owner);
    let kept: UnitOfWork | null = null;
    await run(async (uow) => {
      kept = uow;
    });
    expect(() => kept!.publish([notice(groupId, 'late')])).toThrow('this unit of work has ended');
    expect(() => kept!.afterCommit('late', () => undefined)).toThrow('this unit of work has ended');
  });
});
