import type { DataSource, EntityManager } from 'typeorm';
import { RolloutRuleRow, RolloutService } from './rollout.service';

const row = (region: string, enabled: boolean): RolloutRuleRow => ({
  id: `id-${region}-${enabled}`,
  feature: 'group_chats',
  region,
  plan: '*',
  enabled,
  percentage: enabled ? 100 : 0,
  updatedAt: new Date(0),
  updatedBy: 'test',
});

/**
 * A database holding rules and their version, counting reads of each. `afterVersionRead`
 * runs once the version is answered: a change committing between the two reads.
 */
function fakeDb(initial: RolloutRuleRow[]) {
  const state = { rules: initial, version: 1, versionReads: 0, ruleReads: 0, afterVersionRead: null as (() => void) | null };
  const manager = {
    query: async (sql: string) => {
      if (sql.includes('rollout_state')) {
        state.versionReads += 1;
        const answer = [{ version: String(state.version) }];
        state.afterVersionRead?.();
        state.afterVersionRead = null;
        return answer;
      }
      state.ruleReads += 1;
      return state.rules;
    },
  };
  const change = (rules: RolloutRuleRow[]) => {
    state.rules = rules;
    state.version += 1;
  };
  return { state, change, manager: manager as unknown as EntityManager, db: { manager } as unknown as DataSource };
}

const jp = { id: 'u1', region: 'JP', plan: 'plus' as const };

describe('RolloutService cache', () => {
  it('judges several users under one reading of the rules', async () => {
    const { state, db } = fakeDb([row('*', false), row('JP', true)]);
    const rollout = new RolloutService(db);
    const de = { id: 'u2', region: 'DE', plan: 'plus' as const };
    expect(await rollout.allowsEach([jp, de, jp], 'group_chats')).toEqual([true, false, true]);
    expect({ versionReads: state.versionReads, ruleReads: state.ruleReads }).toEqual({ versionReads: 1, ruleReads: 1 });
    expect(await rollout.allowsEach([], 'group_chats')).toEqual([]);
    expect(state.versionReads).toBe(1);
  });

  it('reads only the version while it stands, and the rules again as soon as it moved', async () => {
    const { state, change, db } = fakeDb([row('*', true)]);
    const rollout = new RolloutService(db);
    expect(await rollout.allows(jp, 'group_chats')).toBe(true);
    expect(await rollout.allows(jp, 'group_chats')).toBe(true);
    expect({ versionReads: state.versionReads, ruleReads: state.ruleReads }).toEqual({ versionReads: 2, ruleReads: 1 });
    // Another process changed the rules: the very next check applies the change.
    change([row('*', false)]);
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(state.ruleReads).toBe(2);
  });

  it('never keeps rules newer than their version: a change between the two reads is read again next time', async () => {
    const { state, change, db } = fakeDb([row('*', true)]);
    const rollout = new RolloutService(db);
    state.afterVersionRead = () => change([row('*', false)]);
    // Version 1 read, then the rules of version 2: cached as version 1, so not trusted.
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(state.ruleReads).toBe(2);
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(state.ruleReads).toBe(2);
  });

  it('takes the version a caller read with its own statement, and then reads nothing while it matches', async () => {
    const { state, change, db } = fakeDb([row('*', true)]);
    const rollout = new RolloutService(db);
    expect(await rollout.allows(jp, 'group_chats', { version: 1 })).toBe(true);
    expect(await rollout.allows(jp, 'group_chats', { version: 1 })).toBe(true);
    expect({ versionReads: state.versionReads, ruleReads: state.ruleReads }).toEqual({ versionReads: 0, ruleReads: 1 });
    change([row('*', false)]);
    expect(await rollout.allows(jp, 'group_chats', { version: 2 })).toBe(false);
  });

  it('reads through the caller transaction instead of taking another connection', async () => {
    const pool = fakeDb([]);
    const tx = fakeDb([row('JP', true)]);
    const rollout = new RolloutService(pool.db);
    expect(await rollout.allows(jp, 'group_chats', { db: tx.manager })).toBe(true);
    expect({ versionReads: pool.state.versionReads, ruleReads: pool.state.ruleReads }).toEqual({ versionReads: 0, ruleReads: 0 });
    expect({ versionReads: tx.state.versionReads, ruleReads: tx.state.ruleReads }).toEqual({ versionReads: 1, ruleReads: 1 });
  });

  it('throws FEATURE_NOT_AVAILABLE naming the feature when the user is outside', async () => {
    const { db } = fakeDb([row('JP', false), row('*', true)]);
    const rollout = new RolloutService(db);
    await expect(rollout.check(jp, 'group_chats')).rejects.toMatchObject({ code: 'FEATURE_NOT_AVAILABLE', extensions: { feature: 'group_chats' } });
    await expect(rollout.check({ ...jp, region: 'DE' }, 'group_chats')).resolves.toBeUndefined();
    // No rule for the AI feature at all: off.
    await expect(rollout.check(jp, 'group_chats_ai')).rejects.toMatchObject({ code: 'FEATURE_NOT_AVAILABLE' });
  });
});
