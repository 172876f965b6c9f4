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

/** A database whose rules can be swapped, counting reads; each read can be held open. */
function fakeDb(initial: RolloutRuleRow[]) {
  const state = { rules: initial, reads: 0, hold: null as Promise<void> | null };
  const manager = {
    query: async () => {
      state.reads += 1;
      const snapshot = state.rules;
      if (state.hold) await state.hold;
      return snapshot;
    },
  };
  return { state, db: { manager } as unknown as DataSource };
}

const jp = { id: 'u1', region: 'JP', plan: 'plus' as const };

describe('RolloutService cache', () => {
  it('reads the rules at most once per cacheMs and again once they are older', async () => {
    let now = 0;
    const { state, db } = fakeDb([row('*', true)]);
    const rollout = new RolloutService(db, { cacheMs: 1000, now: () => now });
    expect(await rollout.allows(jp, 'group_chats')).toBe(true);
    state.rules = [row('*', false)];
    now = 999;
    expect(await rollout.allows(jp, 'group_chats')).toBe(true);
    expect(state.reads).toBe(1);
    now = 1000;
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(state.reads).toBe(2);
  });

  it('never keeps rules longer than a second, whatever it is given', async () => {
    let now = 0;
    const { state, db } = fakeDb([row('*', true)]);
    const rollout = new RolloutService(db, { cacheMs: 60_000, now: () => now });
    await rollout.rules();
    now = 1000;
    await rollout.rules();
    expect(state.reads).toBe(2);
  });

  it('shares one read among concurrent checks', async () => {
    const { state, db } = fakeDb([row('*', true)]);
    let release!: () => void;
    state.hold = new Promise((r) => (release = r));
    const rollout = new RolloutService(db, { now: () => 0 });
    const checks = Array.from({ length: 5 }, () => rollout.allows(jp, 'group_chats'));
    release();
    expect(await Promise.all(checks)).toEqual([true, true, true, true, true]);
    expect(state.reads).toBe(1);
  });

  it('does not cache a read that started before the rules were invalidated', async () => {
    const { state, db } = fakeDb([row('*', true)]);
    let release!: () => void;
    state.hold = new Promise((r) => (release = r));
    const rollout = new RolloutService(db, { now: () => 0 });
    const early = rollout.rules();
    rollout.invalidate();
    state.rules = [row('*', false)];
    state.hold = null;
    // A check after the change does not join the old read.
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    release();
    expect((await early)[0].enabled).toBe(true);
    expect(await rollout.allows(jp, 'group_chats')).toBe(false);
    expect(state.reads).toBe(2);
  });

  it('reads through the caller transaction on a miss instead of taking another connection', async () => {
    const { state, db } = fakeDb([]);
    const tx = { query: jest.fn(async () => [row('JP', true)]) } as unknown as EntityManager;
    const rollout = new RolloutService(db, { now: () => 0 });
    expect(await rollout.allows(jp, 'group_chats', tx)).toBe(true);
    expect(state.reads).toBe(0);
    // And the result serves the next check.
    expect(await rollout.allows(jp, 'group_chats')).toBe(true);
    expect(state.reads).toBe(0);
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
