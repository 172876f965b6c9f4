/**
 * The list grammar the console's data provider speaks (ra-data-graphql-simple): filters,
 * sorting (priority by default for cases), 0-based pages, perPage capped, _all*Meta counts.
 */
import { createStaff, staffGql, staffOk, TestStaff } from '../support/admin';
import { errorOf, startApi, TestApi, TestUser } from '../support/harness';

let api: TestApi;
let staff: TestStaff;
let users: TestUser[];

/** Cases opened straight through the service, as moderation and the AI do. */
async function openCase(author: TestUser, input: { teen: boolean; severity: 'low' | 'medium' | 'high'; categories: string[]; excerpt: string; source?: 'AUTO_FLAG' | 'AI_BLOCKED' }) {
  return api.app.services.safetyCases.open({ source: input.source ?? 'AUTO_FLAG', groupId: null, messageId: null, authorId: author.id, details: {}, ...input });
}

beforeAll(async () => {
  api = await startApi();
  staff = await createStaff(api, { role: 'moderator' });
  users = [await api.user({ region: 'JP', plan: 'free' }), await api.user({ region: 'NZ', plan: 'pro' }), await api.user({ region: 'JP', plan: 'plus' })];
  // Created oldest first: a, b, c, d, e.
  await openCase(users[0], { teen: false, severity: 'high', categories: ['harassment'], excerpt: 'a adult high' });
  await openCase(users[1], { teen: true, severity: 'low', categories: ['self-harm', 'violence'], excerpt: 'b teen low' });
  await openCase(users[2], { teen: false, severity: 'medium', categories: ['spam'], excerpt: 'c adult medium', source: 'AI_BLOCKED' });
  await openCase(users[0], { teen: true, severity: 'high', categories: ['sexual'], excerpt: 'd teen high' });
  await openCase(users[1], { teen: false, severity: 'high', categories: ['harassment'], excerpt: 'e adult high' });
});
afterAll(async () => {
  await api?.stop();
});

const LIST = `query($page: Int, $perPage: Int, $sortField: String, $sortOrder: String, $filter: SafetyCaseFilter) {
  allSafetyCases(page: $page, perPage: $perPage, sortField: $sortField, sortOrder: $sortOrder, filter: $filter) { excerpt category region teen }
  _allSafetyCasesMeta(page: $page, perPage: $perPage, sortField: $sortField, sortOrder: $sortOrder, filter: $filter) { count } }`;

const excerpts = async (vars: Record<string, unknown>) => {
  const r = await staffOk(api, staff.token, LIST, vars);
  return { list: r.allSafetyCases.map((c: { excerpt: string }) => c.excerpt[0]).join(''), count: r._allSafetyCasesMeta.count };
};

describe('safety cases', () => {
  it('sort by priority by default: teen first, then severity, then oldest', async () => {
    expect(await excerpts({})).toEqual({ list: 'dbaec', count: 5 });
    expect(await excerpts({ sortField: 'priority', sortOrder: 'DESC' })).toEqual({ list: 'ceabd', count: 5 });
  });

  it('sort by createdAt either way', async () => {
    expect((await excerpts({ sortField: 'createdAt', sortOrder: 'ASC' })).list).toBe('abcde');
    expect((await excerpts({ sortField: 'createdAt', sortOrder: 'DESC' })).list).toBe('edcba');
  });

  it('filters by teen, category, source, region, status and text, and counts what matches', async () => {
    expect(await excerpts({ filter: { teen: true } })).toEqual({ list: 'db', count: 2 });
    expect(await excerpts({ filter: { category: 'harassment' } })).toEqual({ list: 'ae', count: 2 });
    expect(await excerpts({ filter: { category: 'violence' } })).toEqual({ list: 'b', count: 1 });
    expect(await excerpts({ filter: { source: 'AI_BLOCKED' } })).toEqual({ list: 'c', count: 1 });
    expect(await excerpts({ filter: { region: 'JP' } })).toEqual({ list: 'dac', count: 3 });
    expect(await excerpts({ filter: { status: 'OPEN', q: 'ADULT' } })).toEqual({ list: 'aec', count: 3 });
    expect(await excerpts({ filter: { status: 'DISMISSED' } })).toEqual({ list: '', count: 0 });
  });

  it('pages from 0 and counts the whole list', async () => {
    expect(await excerpts({ page: 0, perPage: 2 })).toEqual({ list: 'db', count: 5 });
    expect(await excerpts({ page: 1, perPage: 2 })).toEqual({ list: 'ae', count: 5 });
    expect(await excerpts({ page: 2, perPage: 2 })).toEqual({ list: 'c', count: 5 });
    expect(await excerpts({ page: 0, perPage: 1000 })).toEqual({ list: 'dbaec', count: 5 });
  });

  it('the first category is the category', async () => {
    const r = await staffOk(api, staff.token, LIST, { filter: { teen: true, region: 'NZ' } });
    expect(r.allSafetyCases).toEqual([{ excerpt: 'b teen low', category: 'self-harm', region: 'NZ', teen: true }]);
  });

  it('refuses unknown sort fields and orders, and bad pages, with BAD_USER_INPUT', async () => {
    for (const vars of [{ sortField: 'excerpt; DROP TABLE users' }, { sortOrder: 'SIDEWAYS' }, { page: -1 }, { perPage: 0 }]) {
      expect(errorOf(await staffGql(api, staff.token, LIST, vars)).code).toBe('BAD_USER_INPUT');
    }
  });

  it('ids filter finds exactly those cases; malformed ids match nothing', async () => {
    const [row] = await api.query(`SELECT id FROM safety_cases WHERE excerpt = 'c adult medium'`);
    expect(await excerpts({ filter: { ids: [row.id, 'not-a-uuid'] } })).toEqual({ list: 'c', count: 1 });
  });
});

describe('users', () => {
  const USERS = `query($filter: UserFilter, $sortField: String, $sortOrder: String) {
    allUsers(filter: $filter, sortField: $sortField, sortOrder: $sortOrder) { id plan region quota { window windowSeconds limit used remaining resetsAt resetAt } }
    _allUsersMeta(filter: $filter) { count } }`;

  it('filter by plan and region, sort by plan, with the quota window of each plan', async () => {
    const r = await staffOk(api, staff.token, USERS, { filter: { region: 'JP' }, sortField: 'plan', sortOrder: 'ASC' });
    expect(r._allUsersMeta.count).toBe(2);
    expect(r.allUsers.map((u: { plan: string }) => u.plan)).toEqual(['free', 'plus']);
    expect(r.allUsers[0].quota).toEqual([{ window: '5h', windowSeconds: 18000, limit: 10, used: 0, remaining: 10, resetsAt: null, resetAt: null }]);
    const pro = await staffOk(api, staff.token, USERS, { filter: { plan: 'pro', suspended: false } });
    expect(pro.allUsers.map((u: { id: string }) => u.id)).toEqual([users[1].id]);
  });

  it('finds users by username', async () => {
    const r = await staffOk(api, staff.token, USERS, { filter: { q: users[2].username } });
    expect(r.allUsers.map((u: { id: string }) => u.id)).toEqual([users[2].id]);
  });

  it('shows plan limits at a glance', async () => {
    const r = await staffOk(api, staff.token, `{ planLimits { plan window windowSeconds limit } }`);
    expect(r.planLimits).toEqual([
      { plan: 'free', window: '5h', windowSeconds: 18000, limit: 10 },
      { plan: 'go', window: '5h', windowSeconds: 18000, limit: 40 },
      { plan: 'plus', window: '3h', windowSeconds: 10800, limit: 80 },
      { plan: 'pro', window: '3h', windowSeconds: 10800, limit: 1000 },
    ]);
  });
});

describe('rollout', () => {
  it('lists rules, and the grid shows the effective state per region and plan, incl. the pilot regions and the regions of rules and users', async () => {
    const admin = await createStaff(api, { role: 'admin' });
    await staffOk(api, admin.token, `mutation { createRolloutRule(feature: "group_chats_ai", region: "KR", plan: "*", enabled: true, percentage: 25, reason: "KR AI pilot") { id } }`);
    const dup = await staffGql(api, admin.token, `mutation { createRolloutRule(feature: "group_chats_ai", region: "KR", plan: "*", enabled: false, percentage: 0, reason: "duplicate") { id } }`);
    expect(errorOf(dup).code).toBe('BAD_USER_INPUT');
    const r = await staffOk(api, staff.token, `{ _allRolloutRulesMeta(filter: { region: "KR" }) { count } rolloutGrid { features regions plans cells { feature region plan enabled percentage ruleRegion rulePlan } } }`);
    expect(r._allRolloutRulesMeta.count).toBe(1);
    expect(r.rolloutGrid.regions).toEqual(['*', 'JP', 'KR', 'NZ', 'TW']);
    expect(r.rolloutGrid.plans).toEqual(['*', 'free', 'go', 'plus', 'pro']);
    const cell = (feature: string, region: string, plan: string) => r.rolloutGrid.cells.find((c: any) => c.feature === feature && c.region === region && c.plan === plan);
    expect(cell('group_chats_ai', 'KR', 'pro')).toMatchObject({ enabled: true, percentage: 25, ruleRegion: 'KR', rulePlan: '*' });
    expect(cell('group_chats_ai', 'JP', 'pro')).toMatchObject({ ruleRegion: '*' });
    const only = await staffOk(api, staff.token, `{ rolloutGrid(regions: ["kr"]) { regions cells { region } } }`);
    expect(only.rolloutGrid.regions).toEqual(['KR']);
  });
});

describe('dashboard', () => {
  it('counts open cases and open teen cases', async () => {
    const r = await staffOk(api, staff.token, `{ dashboard { openCases openTeenCases since responsesByPlanModel { plan model count } exhaustionsByPlan { plan count } } }`);
    expect(r.dashboard).toMatchObject({ openCases: 5, openTeenCases: 2, responsesByPlanModel: [], exhaustionsByPlan: [] });
  });
});
