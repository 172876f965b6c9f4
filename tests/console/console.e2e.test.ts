/**
 * The staff console end to end (docs/product.md §8): a real headless Chromium drives the
 * built console served by the API at /admin, and every staff action is checked where
 * it matters — on the client API, a member's live subscription, the AI, the staff API.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { FakeOpenAI } from '../support/fake-openai';
import { errorOf, liveSubscription, TestApi } from '../support/harness';
import { createStaff, origin, staffGql, staffOk, TestStaff } from '../support/admin';
import { aiMessages, MODELS, quotaOf, settled, startAiApi } from '../ai/ai-support';
import { consolePage, ensureConsoleBuilt, freshContext, launchBrowser, pageErrors, screenshot, signInConsole } from './browser';
import { expectText, expectCount, expectAttribute } from './page-expect';

jest.setTimeout(90_000);

let fake: FakeOpenAI;
let api: TestApi;
let browser: Browser;
let admin: TestStaff;
let moderator: TestStaff;
let adminContext: BrowserContext;
let page: Page;
let errors: Error[];

const consoleUrl = (hash = '') => consolePage(origin(api), hash);
const CREATE_GROUP = `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`;

beforeAll(async () => {
  ensureConsoleBuilt();
  fake = await FakeOpenAI.start();
  [api, browser] = await Promise.all([
    // One AI response an hour on the free plan: easy to exhaust, then reset from the console.
    startAiApi(fake, { AI_QUOTA: 'free=1/1h' }),
    launchBrowser(),
  ]);
  [admin, moderator] = await Promise.all([createStaff(api, { role: 'admin' }), createStaff(api, { role: 'moderator' })]);
  adminContext = await freshContext(browser);
  page = await adminContext.newPage();
  errors = pageErrors(page);
});

afterAll(async () => {
  await browser?.close();
  if (api) {
    await settled(api);
    await api.stop();
  }
  await fake?.stop();
});

afterEach(() => {
  // The console must never crash while staff use it.
  expect(errors.map((e) => e.message)).toEqual([]);
});

const signIn = (p: Page, email: string, password: string) => signInConsole(p, origin(api), email, password);

/** Signs the shared admin page in unless it already is (so any test can run alone with -t). */
async function asAdmin(): Promise<void> {
  if (!page.url().startsWith(origin(api))) await page.goto(consoleUrl());
  if (await page.evaluate<string | null>("localStorage.getItem('roundtable.staff.session')")) return;
  await signIn(page, admin.email, admin.password);
  await page.getByTestId('dashboard').waitFor();
}

/** The staff token the console keeps after signing in. */
async function consoleToken(p: Page): Promise<string> {
  const raw = await p.evaluate<string | null>("localStorage.getItem('roundtable.staff.session')");
  if (!raw) throw new Error('the console holds no session');
  return JSON.parse(raw).token;
}

/** Types a reason in the action's dialog and confirms it. */
async function confirmWithReason(p: Page, testId: string, reason: string): Promise<void> {
  await p.getByTestId(testId).click();
  await p.getByTestId(`${testId}-reason`).fill(reason);
  await p.getByTestId(`${testId}-confirm`).click();
  await p.getByTestId(`${testId}-confirm`).waitFor({ state: 'detached' });
}

describe('staff console', () => {
  it('signs in: a wrong password shows an error, the right one lands on the dashboard', async () => {
    await signIn(page, admin.email, 'not-the-password');
    await expectText(page.getByTestId('login-error'), /invalid email or password/i);
    expect(await page.evaluate<string | null>("localStorage.getItem('roundtable.staff.session')")).toBeNull();

    await signIn(page, admin.email, admin.password);
    await page.getByTestId('dashboard').waitFor();
    await page.getByTestId('open-cases').waitFor();
    await screenshot(page, 'dashboard');

    // The token the console keeps is a working staff session for this account.
    const me = await staffOk(api, await consoleToken(page), `{ me { email role } }`);
    expect(me.me).toEqual({ email: admin.email, role: 'ADMIN' });
    const signIns = await staffOk(api, admin.token, `query($f: AuditEntryFilter) { allAuditEntries(filter: $f) { action actorEmail } }`, {
      f: { action: 'SIGN_IN', actorEmail: admin.email },
    });
    expect(signIns.allAuditEntries).toHaveLength(1);
  });

  it("removing a reported message from its case tombstones it live on a member's subscription", async () => {
    await asAdmin();
    const [alice, bob, carol] = await api.users(3);
    const groupId = await api.group(alice, [bob, carol], 'Weekend hike');
    await api.send(alice, groupId, 'who is bringing the map?');
    const body = `nobody cares about your map, idiot ${randomUUID().slice(0, 6)}`;
    const flagged = await api.send(bob, groupId, body);
    await api.send(carol, groupId, 'let us keep it friendly');
    await api.ok(alice.token, `mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id } }`, { m: flagged.id, r: 'insults another member' });
    const live = await liveSubscription(api, carol, groupId);
    // A later report in a group with a minor: the queue puts teen groups first.
    const teen = await api.user({ age: 'minor' });
    const teenGroup = await api.group(alice, [teen], 'Study group');
    const teenBody = `stop spamming the chat ${randomUUID().slice(0, 6)}`;
    const teenMessage = await api.send(alice, teenGroup, teenBody);
    await api.ok(teen.token, `mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id } }`, { m: teenMessage.id, r: 'rude' });

    await page.goto(consoleUrl('SafetyCase'));
    const row = page.locator('tr', { hasText: body });
    await row.waitFor();
    const firstRow = page.locator('.RaDatagrid-tbody > tr').first();
    await expectText(firstRow, teenBody);
    expect(await firstRow.getByTestId('teen-chip').count()).toBe(1);
    expect(await row.getByTestId('teen-chip').count()).toBe(0);
    await screenshot(page, 'case-list');
    await row.click();

    await expectText(page.getByTestId('flagged-message'), body);
    expect(await page.getByTestId('context-message').count()).toBeGreaterThanOrEqual(2);
    await expectText(page.getByTestId('report-reasons'), 'insults another member');
    await screenshot(page, 'case-show');
    const caseId = decodeURIComponent(page.url().match(/SafetyCase\/([^/]+)\/show/)![1]);

    await confirmWithReason(page, 'decide-remove', 'Insult aimed at a member');
    await expectText(page.getByTestId('case-decision'), /message removed/i);

    const events = await live.events.until((evs) => evs.some((e) => e.type === 'MESSAGE_DELETED' && e.message?.id === flagged.id));
    expect(events.find((e) => e.type === 'MESSAGE_DELETED')).toMatchObject({ groupId, message: { id: flagged.id } });
    const decided = await staffOk(api, admin.token, `query($id: ID!) { SafetyCase(id: $id) { status decidedBy decisionReason } }`, { id: caseId });
    expect(decided.SafetyCase).toMatchObject({ status: 'MESSAGE_REMOVED', decisionReason: 'Insult aimed at a member' });
    const seen = await api.ok(carol.token, `query($g: ID!) { messages(groupId: $g, first: 20) { edges { node { id body status } } } }`, { g: groupId });
    const tombstone = seen.messages.edges.map((e: any) => e.node).find((m: any) => m.id === flagged.id);
    expect(tombstone.body ?? '').not.toContain('idiot');
  });

  it('resetting a quota from the user page lets the exhausted user trigger the AI again', async () => {
    await asAdmin();
    const alice = await api.user({ plan: 'free' });
    const bob = await api.user({ plan: 'plus' });
    const groupId = await api.group(alice, [bob], 'Trip planning');
    await api.send(alice, groupId, '@AI what is the best time to visit Kyoto?');
    await settled(api);
    await api.send(alice, groupId, '@AI and Osaka?');
    await settled(api);
    expect(await aiMessages(api, bob, groupId)).toHaveLength(1);
    expect((await quotaOf(api, alice)).remaining).toBe(0);

    await page.goto(consoleUrl('User'));
    await page.getByPlaceholder('Username, name or subject').fill(alice.username);
    // The search is debounced into the URL; clicking before it lands would bounce back to the list.
    await page.waitForURL((u) => decodeURIComponent(u.hash).includes(alice.username));
    const row = page.locator('tr', { hasText: `@${alice.username}` });
    await row.waitFor();
    await expectCount(page.locator('.RaDatagrid-tbody > tr'), 1);
    await screenshot(page, 'user-list');
    await row.click();
    await expectText(page.getByTestId('quota-remaining').first(), '0');
    await page.getByTestId('responses-table').waitFor();
    await screenshot(page, 'user-show');

    await confirmWithReason(page, 'reset-quota', 'Goodwill after an outage');
    await expectText(page.getByTestId('quota-remaining').first(), '1');

    expect((await quotaOf(api, alice)).remaining).toBe(1);
    await api.send(alice, groupId, '@AI and Nara?');
    await settled(api);
    const replies = await aiMessages(api, bob, groupId);
    expect(replies).toHaveLength(2);
    expect(replies[1]).toMatchObject({ status: 'COMPLETED', modelResponse: { charged: true, chargedUser: { id: alice.id } } });
  });

  it('suspending a user from their page stops their messages; unsuspending lets them back', async () => {
    await asAdmin();
    const [alice, bob] = await api.users(2);
    const groupId = await api.group(alice, [bob], 'Book club');
    await api.send(bob, groupId, 'chapter 3 tonight?');

    await page.goto(consoleUrl(`User/${encodeURIComponent(bob.id)}/show`));
    await confirmWithReason(page, 'suspend-user', 'Repeated spam');
    await expectText(page.getByTestId('user-suspension'), 'Repeated spam');
    const refused = await api.gql(bob.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, {
      i: { groupId, body: 'still here', clientMessageId: randomUUID() },
    });
    expect(errorOf(refused).code).toBe('SUSPENDED');

    await confirmWithReason(page, 'unsuspend-user', 'Appeal accepted');
    await expectText(page.getByTestId('user-suspension'), 'not suspended');
    await api.send(bob, groupId, 'thanks, back to chapter 3');
  });

  it('turning group_chats off for one region on the grid refuses its users, not the others', async () => {
    await asAdmin();
    const fr = await api.user({ region: 'FR' });
    const de = await api.user({ region: 'DE' });
    expect((await api.gql(fr.token, CREATE_GROUP, { i: { title: 'Before', memberUsernames: [] } })).errors).toBeUndefined();

    await page.goto(consoleUrl('rollout-grid'));
    const cell = page.getByTestId('cell-group_chats-FR-*');
    await expectAttribute(cell, 'data-state', 'on');
    await page.getByTestId('pilot-JP').first().waitFor();
    await page.getByTestId('toggle-group_chats-FR').click();
    await page.getByTestId('region-switch-reason').fill('Pause in FR');
    await page.getByTestId('region-switch-confirm').click();
    await expectAttribute(cell, 'data-state', 'off');
    await expectAttribute(page.getByTestId('cell-group_chats-FR-plus'), 'data-state', 'off');
    expect(await page.getByTestId('toggle-group_chats-FR').isChecked()).toBe(false);
    await expectAttribute(page.getByTestId('cell-group_chats-DE-*'), 'data-state', 'on');
    await screenshot(page, 'rollout-grid');

    expect(errorOf(await api.gql(fr.token, CREATE_GROUP, { i: { title: 'After', memberUsernames: [] } })).code).toBe('FEATURE_NOT_AVAILABLE');
    const ok = await api.gql(de.token, CREATE_GROUP, { i: { title: 'Elsewhere', memberUsernames: [] } });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.createGroup.id).toBeTruthy();
    const rules = await staffOk(api, admin.token, `query($f: RolloutRuleFilter) { allRolloutRules(filter: $f) { feature region plan enabled updatedBy } }`, {
      f: { feature: 'group_chats', region: 'FR' },
    });
    expect(rules.allRolloutRules).toEqual([expect.objectContaining({ region: 'FR', plan: '*', enabled: false, updatedBy: admin.email })]);

    await page.goto(consoleUrl('RolloutRule'));
    await page.locator('tr', { hasText: 'FR' }).first().waitFor();
    expect(await page.getByRole('link', { name: /create/i }).count()).toBe(1);
    await screenshot(page, 'rollout-rules');
  });

  it('an admin creates, edits and deletes a rollout rule through the forms', async () => {
    await asAdmin();
    const RULES = `query($f: RolloutRuleFilter) { allRolloutRules(filter: $f) { id feature region plan enabled percentage } }`;
    const krRules = async () => (await staffOk(api, admin.token, RULES, { f: { feature: 'group_chats_ai', region: 'KR' } })).allRolloutRules;

    await page.goto(consoleUrl('RolloutRule/create'));
    await page.getByLabel('Feature').click();
    await page.getByRole('option', { name: 'group_chats_ai' }).click();
    await page.getByLabel('Region').fill('kr');
    await page.getByLabel('Plan').click();
    await page.getByRole('option', { name: 'pro' }).click();
    await page.getByLabel('Percentage').fill('50');
    await page.getByLabel('Reason for this change').fill('KR Pro trial');
    await page.getByRole('button', { name: /save/i }).click();
    await page.locator('tr', { hasText: 'KR' }).first().waitFor();
    expect(await krRules()).toEqual([expect.objectContaining({ feature: 'group_chats_ai', region: 'KR', plan: 'pro', enabled: true, percentage: 50 })]);

    const [created] = await krRules();
    await page.goto(consoleUrl(`RolloutRule/${encodeURIComponent(created.id)}`));
    await page.getByLabel('Percentage').fill('25');
    await page.getByLabel('Reason for this change').fill('Halve the trial');
    await page.getByRole('button', { name: /save/i }).click();
    await page.locator('tr', { hasText: '25%' }).first().waitFor();
    expect(await krRules()).toEqual([expect.objectContaining({ id: created.id, percentage: 25 })]);

    await confirmWithReason(page, 'delete-rule-group_chats_ai-KR-pro', 'Trial over');
    await page.locator('tr', { hasText: '25%' }).waitFor({ state: 'detached' });
    expect(await krRules()).toEqual([]);
  });

  // Reads what the tests above did: run the whole file.
  it('shows staff actions in the audit log and AI responses with their charged user', async () => {
    await asAdmin();
    await page.goto(consoleUrl('AuditEntry'));
    for (const action of ['message removed', 'quota reset', 'user suspended', 'user unsuspended', 'rollout rule created']) await page.locator('tr', { hasText: action }).first().waitFor();
    await screenshot(page, 'audit-log');
    // The action filter (its choices come from the schema's AuditAction enum) narrows the list on the server.
    await page.getByLabel('Action').click();
    await page.getByRole('option', { name: 'quota reset' }).click();
    await page.locator('tr', { hasText: 'user suspended' }).first().waitFor({ state: 'detached' });
    const resets = (await staffOk(api, admin.token, `{ _allAuditEntriesMeta(filter: { action: QUOTA_RESET }) { count } }`))._allAuditEntriesMeta.count;
    expect(resets).toBeGreaterThan(0);
    await expect(page.locator('tbody tr').count()).resolves.toBe(resets);

    await page.goto(consoleUrl('ModelResponse'));
    await page.locator('tr', { hasText: MODELS.fast }).first().waitFor();
    await screenshot(page, 'model-responses');

    // The dashboard shows what the staff API counts: the open teen case, the AI responses and the exhausted free quota.
    const { dashboard } = await staffOk(api, admin.token, `{ dashboard { openCases openTeenCases responsesByPlanModel { plan model count } exhaustionsByPlan { plan count } } }`);
    expect(dashboard.openTeenCases).toBeGreaterThanOrEqual(1);
    expect(dashboard.responsesByPlanModel).toEqual(expect.arrayContaining([{ plan: 'free', model: MODELS.fast, count: 2 }]));
    await page.goto(consoleUrl());
    await expectText(page.getByTestId('open-cases'), String(dashboard.openCases));
    await expectText(page.getByTestId('open-teen-cases'), String(dashboard.openTeenCases));
    await expectText(page.getByTestId('responses-by-plan-model'), `free${MODELS.fast}2`);
    if (dashboard.exhaustionsByPlan.length) await expectText(page.getByTestId('exhaustions-by-plan'), `free${dashboard.exhaustionsByPlan.find((e: any) => e.plan === 'free')?.count}`);
    await screenshot(page, 'dashboard-after');
  });

  it('a moderator sees no rollout or quota controls, and the API refuses them anyway', async () => {
    const context = await freshContext(browser);
    const mod = await context.newPage();
    const modErrors = pageErrors(mod);
    const user = await api.user({ plan: 'free', region: 'NZ' });
    try {
      await signIn(mod, moderator.email, moderator.password);
      await mod.getByTestId('dashboard').waitFor();

      // Moderators decide cases: dismiss the open teen case.
      await mod.goto(consoleUrl('SafetyCase'));
      const teenRow = mod.locator('.RaDatagrid-tbody > tr', { has: mod.getByTestId('teen-chip') }).first();
      await teenRow.click();
      await mod.getByTestId('flagged-message').waitFor();
      const caseId = decodeURIComponent(mod.url().match(/SafetyCase\/([^/]+)\/show/)![1]);
      await confirmWithReason(mod, 'decide-dismiss', 'Banter between classmates');
      await expectText(mod.getByTestId('case-decision'), /dismissed/i);
      const dismissed = await staffOk(api, admin.token, `query($id: ID!) { SafetyCase(id: $id) { status decidedBy } }`, { id: caseId });
      expect(dismissed.SafetyCase).toEqual({ status: 'DISMISSED', decidedBy: moderator.email });

      await mod.goto(consoleUrl('RolloutRule'));
      await mod.locator('tr', { hasText: 'group_chats' }).first().waitFor();
      expect(await mod.getByRole('link', { name: /create/i }).count()).toBe(0);
      expect(await mod.getByRole('link', { name: /^edit$/i }).count()).toBe(0);
      expect(await mod.getByRole('button', { name: /delete/i }).count()).toBe(0);
      await screenshot(mod, 'rollout-rules-moderator');

      await mod.goto(consoleUrl('rollout-grid'));
      await expectAttribute(mod.getByTestId('cell-group_chats-NZ-*'), 'data-state', /on|off|%/);
      expect(await mod.getByTestId('toggle-group_chats-NZ').isDisabled()).toBe(true);

      await mod.goto(consoleUrl(`User/${encodeURIComponent(user.id)}/show`));
      await mod.getByTestId('quota-table').waitFor();
      await mod.getByTestId('admin-only-hint').waitFor();
      expect(await mod.getByTestId('reset-quota').count()).toBe(0);
      expect(await mod.getByTestId('suspend-user').count()).toBe(0);
      await screenshot(mod, 'user-show-moderator');

      const token = await consoleToken(mod);
      const refused = await Promise.all([
        staffGql(api, token, `mutation($u: ID!) { resetQuota(userId: $u, reason: "try") { id } }`, { u: user.id }),
        staffGql(api, token, `mutation($u: ID!) { suspendUser(id: $u, reason: "try") { id } }`, { u: user.id }),
        staffGql(api, token, `mutation { createRolloutRule(feature: "group_chats", region: "NZ", plan: "*", enabled: false, percentage: 100, reason: "try") { id } }`),
      ]);
      expect(refused.map((r) => errorOf(r).code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
      expect((await api.gql(user.token, CREATE_GROUP, { i: { title: 'Still on', memberUsernames: [] } })).errors).toBeUndefined();

      // A token the API no longer accepts (401) signs the console out.
      await mod.evaluate(`(() => { const k = 'roundtable.staff.session'; const s = JSON.parse(localStorage.getItem(k)); s.token = 'revoked'; localStorage.setItem(k, JSON.stringify(s)); })()`);
      await mod.goto(consoleUrl('User'));
      await mod.getByTestId('login-email').waitFor();
      expect(await mod.evaluate<string | null>("localStorage.getItem('roundtable.staff.session')")).toBeNull();
      expect(modErrors.map((e) => e.message)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a moderator suspends an author by deciding their case, and finds no suspend or unsuspend button on the user's page", async () => {
    const [author, reporter] = await api.users(2);
    const groupId = await api.group(author, [reporter], 'Book club');
    const flagged = await api.send(author, groupId, `everyone here is worthless ${randomUUID().slice(0, 6)}`);
    await api.ok(reporter.token, `mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id } }`, { m: flagged.id, r: 'insults' });
    const [{ id: caseId }] = await api.query<{ id: string }>(`SELECT id FROM safety_cases WHERE message_id = $1`, [flagged.id]);

    const context = await freshContext(browser);
    const mod = await context.newPage();
    const modErrors = pageErrors(mod);
    try {
      await signIn(mod, moderator.email, moderator.password);
      await mod.getByTestId('dashboard').waitFor();

      // The case's decision, suspending the author included, is the moderator's.
      await mod.goto(consoleUrl(`SafetyCase/${encodeURIComponent(caseId)}/show`));
      await mod.getByTestId('flagged-message').waitFor();
      expect(await mod.getByTestId('decide-suspend').isVisible()).toBe(true);
      expect(await mod.getByTestId('decide-suspend').isDisabled()).toBe(false);
      await screenshot(mod, 'case-show-moderator');
      await confirmWithReason(mod, 'decide-suspend', 'Insults after a warning');
      await expectText(mod.getByTestId('case-decision'), /suspended/i);
      const refused = await api.gql(author.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, { i: { groupId, body: 'sorry', clientMessageId: randomUUID() } });
      expect(errorOf(refused).code).toBe('SUSPENDED');

      // Suspending or unsuspending from the user's page is an admin's: no button, and the page says where moderators act.
      await mod.goto(consoleUrl(`User/${encodeURIComponent(author.id)}/show`));
      await expectText(mod.getByTestId('user-suspension'), /suspended.*Insults after a warning/);
      await expectText(mod.getByTestId('admin-only-hint'), /suspending or unsuspending from a user's page are for admins.*decide their safety case/i);
      expect(await mod.getByTestId('unsuspend-user').count()).toBe(0);
      expect(await mod.getByTestId('suspend-user').count()).toBe(0);
      await screenshot(mod, 'user-show-moderator-suspended');
      expect(modErrors.map((e) => e.message)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
