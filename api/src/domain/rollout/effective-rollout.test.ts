import { Plan, PLANS } from '../plan';
import { effectiveGrid, effectiveRollout, rolloutBucket, RolloutRule, validateRule } from './effective-rollout';

const rule = (region: string, plan: RolloutRule['plan'], enabled = true, percentage = 100, feature = 'group_chats'): RolloutRule => ({
  feature,
  region,
  plan,
  enabled,
  percentage,
});
const user = (region: string | null, plan: Plan = 'plus', id = 'user-1') => ({ id, region, plan });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('effectiveRollout: the most specific matching rule wins', () => {
  const rules = [rule('*', '*', true), rule('*', 'free', false), rule('JP', '*', false), rule('JP', 'pro', true), rule('FR', 'go', true)];

  it.each([
    ['region+plan beats region', user('JP', 'pro'), true, 'JP/pro'],
    ['region beats plan', user('JP', 'free'), false, 'JP/*'],
    ['region beats global', user('JP', 'plus'), false, 'JP/*'],
    ['plan beats global', user('DE', 'free'), false, '*/free'],
    ['global applies when nothing else matches', user('DE', 'plus'), true, '*/*'],
    ['a region+plan rule of another plan does not match', user('FR', 'plus'), true, '*/*'],
    ['region+plan beats plan', user('FR', 'go'), true, 'FR/go'],
    ['a user without a region matches only * region rules', user(null, 'free'), false, '*/free'],
    ['a user without a region gets the global rule', user(null, 'pro'), true, '*/*'],
  ])('%s', (_name, u, enabled, decidedBy) => {
    const decision = effectiveRollout(rules, 'group_chats', u);
    expect(decision.enabled).toBe(enabled);
    expect(`${decision.rule?.region}/${decision.rule?.plan}`).toBe(decidedBy);
  });

  it('does not depend on the order the rules are listed in', () => {
    const reversed = [...rules].reverse();
    for (const u of [user('JP', 'pro'), user('JP', 'free'), user('DE', 'free'), user('DE', 'plus'), user(null, 'go')]) {
      expect(effectiveRollout(reversed, 'group_chats', u).rule).toBe(effectiveRollout(rules, 'group_chats', u).rule);
    }
  });

  it('looks only at rules of the feature asked about', () => {
    const mixed = [rule('*', '*', true, 100, 'group_chats_ai'), rule('JP', '*', false, 100, 'group_chats')];
    expect(effectiveRollout(mixed, 'group_chats_ai', user('JP')).enabled).toBe(true);
    expect(effectiveRollout(mixed, 'group_chats', user('JP')).enabled).toBe(false);
    expect(effectiveRollout(mixed, 'group_chats', user('DE'))).toEqual({ enabled: false, rule: null, reason: 'no_rule' });
  });
});

describe('effectiveRollout: on, off and fail closed', () => {
  it.each([
    ['no rules at all', [], 'no_rule'],
    ['only rules for other regions', [rule('JP', '*')], 'no_rule'],
    ['only rules for other plans', [rule('*', 'pro')], 'no_rule'],
    ['a disabled rule, even at 100%', [rule('*', '*', false, 100)], 'rule_disabled'],
    ['an enabled rule at 0%', [rule('*', '*', true, 0)], 'outside_percentage'],
  ])('is off with %s', (_name, rules, reason) => {
    expect(effectiveRollout(rules as RolloutRule[], 'group_chats', user('DE', 'plus'))).toMatchObject({ enabled: false, reason });
  });

  it('is on with an enabled rule at 100%', () => {
    expect(effectiveRollout([rule('*', '*')], 'group_chats', user('DE'))).toMatchObject({ enabled: true, reason: 'in_percentage' });
  });
});

describe('effectiveRollout: percentages bucket users stably by id', () => {
  const population = ids(10_000);
  const share = (percentage: number, feature = 'group_chats') =>
    population.filter((id) => effectiveRollout([rule('*', '*', true, percentage, feature)], feature, user('DE', 'plus', id)).enabled).length;

  it.each([
    [0, 0, 0],
    [1, 50, 200],
    [10, 850, 1150],
    [50, 4800, 5200],
    [90, 8850, 9150],
    [100, 10_000, 10_000],
  ])('%d%% admits roughly that share of 10,000 ids', (percentage, min, max) => {
    const n = share(percentage);
    expect(n).toBeGreaterThanOrEqual(min);
    expect(n).toBeLessThanOrEqual(max);
  });

  it('gives the same id the same answer every time, and raising the percentage only adds users', () => {
    const at = (p: number) => new Set(population.filter((id) => effectiveRollout([rule('*', '*', true, p)], 'group_chats', user('DE', 'plus', id)).enabled));
    const [ten, fifty, again] = [at(10), at(50), at(50)];
    expect([...again]).toEqual([...fifty]);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
  });

  it('puts an id in a bucket within [0, 100) that is fixed across processes (a known value)', () => {
    for (const id of population.slice(0, 500)) {
      const b = rolloutBucket(id, 'group_chats');
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(100);
    }
    // sha256("group_chats\0user-1") starts fcaec414: pinned, because changing the hash would
    // silently move users in and out of every partial rollout.
    expect(rolloutBucket('user-1', 'group_chats').toFixed(6)).toBe('98.704172');
  });

  it('samples each feature independently: the AI at 50% is not the same half as group chats at 50%', () => {
    const chats = new Set(population.filter((id) => rolloutBucket(id, 'group_chats') < 50));
    const ai = population.filter((id) => rolloutBucket(id, 'group_chats_ai') < 50);
    const both = ai.filter((id) => chats.has(id)).length;
    expect(both).toBeGreaterThan(2200);
    expect(both).toBeLessThan(2800);
  });
});

describe('the reference rollout: pilot in JP, NZ, KR, TW, then worldwide', () => {
  const PILOT = ['JP', 'NZ', 'KR', 'TW'];
  const phase1: RolloutRule[] = [rule('*', '*', false, 0), ...PILOT.map((r) => rule(r, '*', true, 100))];
  const phase2: RolloutRule[] = [...phase1.filter((r) => r.region !== '*'), rule('*', '*', true, 100)];
  const people = ids(50);

  it.each(PILOT.flatMap((region) => PLANS.map((plan) => [region, plan] as const)))('phase 1: a %s user on %s is in', (region, plan) => {
    for (const id of people) expect(effectiveRollout(phase1, 'group_chats', user(region, plan, id)).enabled).toBe(true);
  });

  it.each(['DE', 'US', null])('phase 1: a user in %p is out, on every plan', (region) => {
    for (const plan of PLANS) for (const id of people) expect(effectiveRollout(phase1, 'group_chats', user(region, plan, id)).enabled).toBe(false);
  });

  it.each([...PILOT, 'DE', 'US', 'BR', null])('phase 2: a user in %p is in, on every plan', (region) => {
    for (const plan of PLANS) for (const id of people) expect(effectiveRollout(phase2, 'group_chats', user(region, plan, id)).enabled).toBe(true);
  });
});

describe('effectiveGrid', () => {
  const rules = [rule('*', '*', false, 0), rule('JP', '*', true, 100), rule('JP', 'free', true, 25), rule('DE', '*', true, 0), rule('*', 'pro', true, 100)];

  it('shows each region × plan as on, off or partial with the share admitted', () => {
    const grid = effectiveGrid(rules, 'group_chats', ['JP', 'DE', 'US', '*'], ['free', 'pro', '*']);
    const cell = (region: string, plan: string) => grid.find((c) => c.region === region && c.plan === plan)!;
    expect(grid).toHaveLength(12);
    expect(grid.map((c) => `${c.region}/${c.plan}`).slice(0, 3)).toEqual(['JP/free', 'JP/pro', 'JP/*']);
    expect(cell('JP', 'free')).toMatchObject({ state: 'partial', percentage: 25 });
    expect(cell('JP', 'pro')).toMatchObject({ state: 'on', percentage: 100, rule: rules[1] });
    expect(cell('JP', '*')).toMatchObject({ state: 'on', percentage: 100 });
    expect(cell('DE', 'free')).toMatchObject({ state: 'off', percentage: 0, rule: rules[3] });
    expect(cell('DE', 'pro')).toMatchObject({ state: 'off', rule: rules[3] });
    expect(cell('US', 'free')).toMatchObject({ state: 'off', rule: rules[0] });
    expect(cell('US', 'pro')).toMatchObject({ state: 'on', rule: rules[4] });
    expect(cell('*', '*')).toMatchObject({ state: 'off', rule: rules[0] });
    expect(cell('*', 'pro')).toMatchObject({ state: 'on', rule: rules[4] });
  });

  it('agrees with effectiveRollout for every concrete region and plan at 0% and 100%', () => {
    const solid = rules.filter((r) => r.percentage === 0 || r.percentage === 100);
    for (const c of effectiveGrid(solid, 'group_chats', ['JP', 'DE', 'US'], PLANS)) {
      expect(c.state === 'on').toBe(effectiveRollout(solid, 'group_chats', user(c.region, c.plan as Plan)).enabled);
    }
  });

  it('is off everywhere for a feature without rules', () => {
    expect(effectiveGrid(rules, 'group_chats_ai', ['JP'], ['free']).map((c) => [c.state, c.rule])).toEqual([['off', null]]);
  });
});

describe('validateRule', () => {
  it('accepts a well-formed rule', () => {
    expect(validateRule({ feature: 'group_chats_ai', region: 'JP', plan: 'go', enabled: true, percentage: 40 })).toEqual([]);
    expect(validateRule({ feature: 'group_chats', region: '*', plan: '*', enabled: false, percentage: 0 })).toEqual([]);
  });

  it('lists every problem', () => {
    const problems = validateRule({ feature: 'video', region: 'jpn', plan: 'gold', enabled: 'yes' as never, percentage: 100.5 });
    expect(problems).toHaveLength(5);
  });
});
