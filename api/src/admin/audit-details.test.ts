import { fallbackLabel, humanName, readableDetails, ruleName } from './audit-details';

const rule = (over: Record<string, unknown> = {}) => ({ id: 'r1', feature: 'group_chats', region: 'FR', plan: '*', enabled: true, percentage: 100, updatedAt: '2026-12-01T00:00:00Z', updatedBy: 'a@x.test', ...over });

describe('readableDetails', () => {
  it('lists only what a rule update changed, old → new', () => {
    const details = JSON.stringify({ before: rule({ percentage: 30 }), after: rule({ percentage: 60, enabled: false }) });
    expect(readableDetails(details)).toEqual([
      { name: 'enabled', value: 'on → off' },
      { name: 'percentage', value: '30% → 60%' },
    ]);
  });

  it('lists a created rule as it is, a deleted one as it was, and extra particulars after', () => {
    expect(readableDetails(JSON.stringify({ wholeRegion: true, before: null, after: rule() }))).toEqual([
      { name: 'feature', value: 'group_chats' },
      { name: 'region', value: 'FR' },
      { name: 'plan', value: '*' },
      { name: 'enabled', value: 'on' },
      { name: 'percentage', value: '100%' },
      { name: 'whole region', value: 'yes' },
    ]);
    expect(readableDetails(JSON.stringify({ before: rule({ enabled: false }), after: null }))).toContainEqual({ name: 'enabled (was)', value: 'off' });
  });

  it('says when an update changed nothing', () => {
    expect(readableDetails(JSON.stringify({ before: rule(), after: rule({ updatedAt: 'later' }) }))).toEqual([{ name: 'change', value: 'none (saved as it was)' }]);
  });

  it('names other particulars in words, nested ones with their parent, and nulls as a dash', () => {
    expect(readableDetails(JSON.stringify({ plan: 'free', usedBefore: 3, wasSuspended: false, ip: null, source: { kind: 'cli' } }))).toEqual([
      { name: 'plan', value: 'free' },
      { name: 'used before', value: '3' },
      { name: 'was suspended', value: 'no' },
      { name: 'ip', value: '—' },
      { name: 'source kind', value: 'cli' },
    ]);
  });

  it('shows text that is not a JSON object as one field, and nothing for none', () => {
    expect(readableDetails('not json')).toEqual([{ name: 'details', value: 'not json' }]);
    expect(readableDetails('{}')).toEqual([]);
    expect(readableDetails(null)).toEqual([]);
  });
});

describe('fallbackLabel', () => {
  it("names a deleted rule by its remembered feature/region/plan", () => {
    expect(fallbackLabel('RolloutRule', 'a0b1c2d3-0000-4000-8000-000000000000', JSON.stringify({ before: rule({ region: 'KR', plan: 'pro' }), after: null }))).toBe('group_chats/KR/pro (deleted)');
  });

  it('otherwise gives the type and a short id, or the type alone', () => {
    expect(fallbackLabel('User', 'a0b1c2d3-0000-4000-8000-000000000000', '{}')).toBe('User a0b1c2d3… (no longer exists)');
    expect(fallbackLabel('Staff', null, null)).toBe('Staff');
    expect(fallbackLabel('Staff', 'a0b1c2d3-0000-4000-8000-000000000000', JSON.stringify({ email: 'x@y.test', role: 'admin' }))).toBe('x@y.test (deleted)');
  });
});

describe('names', () => {
  it('reads camelCase and snake_case keys as words; a rule as feature/region/plan', () => {
    expect(humanName('usedBefore')).toBe('used before');
    expect(humanName('status_reason')).toBe('status reason');
    expect(ruleName(rule())).toBe('group_chats/FR/*');
    expect(ruleName({ feature: 'x' })).toBeNull();
  });
});
