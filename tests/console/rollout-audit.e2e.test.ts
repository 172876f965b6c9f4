/**
 * The console's accountability end to end (issue 12), in a real headless Chromium against
 * the built console: a rollout change needs a reason and the audit log shows it with the
 * rule named `feature/region/plan`; switching a whole region on the grid asks first
 * (cancel changes nothing); the dashboard counts failed, uncharged AI attempts apart from
 * answered ones; a user's page says why a reply failed.
 */
import type { Browser, Page } from 'playwright-core';
import { aiMessages, settled, startAiApi } from '../ai/ai-support';
import { createStaff, origin, staffOk, TestStaff } from '../support/admin';
import { FakeOpenAI } from '../support/fake-openai';
import { errorOf, TestApi } from '../support/harness';
import { consolePage, ensureConsoleBuilt, freshContext, launchBrowser, pageErrors, screenshot, signInConsole } from './browser';
import { expectAttribute, expectText } from './page-expect';

jest.setTimeout(90_000);

let fake: FakeOpenAI;
let api: TestApi;
let browser: Browser;
let admin: TestStaff;
let page: Page;
let errors: Error[];

const consoleUrl = (hash = '') => consolePage(origin(api), hash);
const RULES = `query($f: RolloutRuleFilter) { allRolloutRules(filter: $f) { id feature region plan enabled percentage } }`;
const ENTRIES = `query($f: AuditEntryFilter) { allAuditEntries(filter: $f) { action reason targetLabel } }`;

beforeAll(async () => {
  ensureConsoleBuilt();
  fake = await FakeOpenAI.start();
  [api, browser] = await Promise.all([startAiApi(fake), launchBrowser()]);
  admin = await createStaff(api, { role: 'admin' });
  page = await (await freshContext(browser)).newPage();
  errors = pageErrors(page);
  await signInConsole(page, origin(api), admin.email, admin.password);
  await page.getByTestId('dashboard').waitFor();
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
  expect(errors.map((e) => e.message)).toEqual([]);
});

const rulesIn = async (region: string) => (await staffOk(api, admin.token, RULES, { f: { region } })).allRolloutRules;
const rolloutEntries = async () =>
  (
    await Promise.all(
      ['ROLLOUT_RULE_CREATED', 'ROLLOUT_RULE_UPDATED', 'ROLLOUT_RULE_DELETED'].map(async (action) => (await staffOk(api, admin.token, ENTRIES, { f: { action } })).allAuditEntries),
    )
  ).flat();

describe('rollout changes and the audit log', () => {
  it('an edit needs a reason; the audit log shows it with the rule named feature/region/plan and what changed', async () => {
    const { createRolloutRule: rule } = await staffOk(
      api,
      admin.token,
      `mutation { createRolloutRule(feature: "group_chats_ai", region: "CL", plan: "go", enabled: true, percentage: 40, reason: "Chile Go trial") { id } }`,
    );
    await page.goto(consoleUrl(`RolloutRule/${encodeURIComponent(rule.id)}`));
    await page.getByLabel('Percentage').fill('60');
    // Without a reason the form does not submit.
    await page.getByRole('button', { name: /save/i }).click();
    await expectText(page.locator('form'), 'Required');
    expect(await rulesIn('CL')).toEqual([expect.objectContaining({ id: rule.id, percentage: 40 })]);

    await page.getByLabel('Reason for this change').fill('Chile trial going well');
    await page.getByRole('button', { name: /save/i }).click();
    await page.locator('tr', { hasText: '60%' }).first().waitFor();
    expect(await rulesIn('CL')).toEqual([expect.objectContaining({ id: rule.id, percentage: 60 })]);

    await page.goto(consoleUrl('AuditEntry'));
    const row = page.locator('tr', { hasText: 'Chile trial going well' });
    await row.waitFor();
    await expectText(row.getByTestId('audit-target'), 'group_chats_ai/CL/go');
    expect(await row.getByTestId('audit-target').textContent()).not.toContain(rule.id.slice(0, 8));
    await expectText(row.getByTestId('audit-details'), 'percentage40% → 60%');
    await expectText(row, 'rollout rule updated');
    await screenshot(page, 'audit-log-rollout-reason');
  });

  it('switching a whole region asks for a reason: cancel changes nothing, confirm turns the region off and the audit log says why', async () => {
    const mexican = await api.user({ region: 'MX' });
    const before = await rolloutEntries();
    await page.goto(consoleUrl('rollout-grid'));
    const cell = page.getByTestId('cell-group_chats-MX-*');
    const toggle = page.getByTestId('toggle-group_chats-MX');
    await expectAttribute(cell, 'data-state', 'on');

    await toggle.click();
    await expectText(page.getByTestId('region-switch-dialog'), /Turn group_chats off in MX\?.*every plan/);
    expect(await page.getByTestId('region-switch-confirm').isDisabled()).toBe(true);
    await page.getByTestId('region-switch-reason').fill('   ');
    expect(await page.getByTestId('region-switch-confirm').isDisabled()).toBe(true);
    await screenshot(page, 'rollout-region-confirm');
    await page.getByTestId('region-switch-cancel').click();
    await page.getByTestId('region-switch-dialog').waitFor({ state: 'detached' });
    expect(await toggle.isChecked()).toBe(true);
    await expectAttribute(cell, 'data-state', 'on');
    expect(await rulesIn('MX')).toEqual([]);
    expect(await rolloutEntries()).toEqual(before);
    expect((await api.gql(mexican.token, `mutation { createGroup(input: { title: "Still on", memberUsernames: [] }) { id } }`)).errors).toBeUndefined();

    await toggle.click();
    await page.getByTestId('region-switch-reason').fill('Payment outage in MX');
    await page.getByTestId('region-switch-confirm').click();
    await page.getByTestId('region-switch-dialog').waitFor({ state: 'detached' });
    await expectAttribute(cell, 'data-state', 'off');
    await expectAttribute(page.getByTestId('cell-group_chats-MX-pro'), 'data-state', 'off');
    expect(await rulesIn('MX')).toEqual([expect.objectContaining({ feature: 'group_chats', plan: '*', enabled: false })]);
    const refused = await api.gql(mexican.token, `mutation { createGroup(input: { title: "After", memberUsernames: [] }) { id } }`);
    expect(errorOf(refused).code).toBe('FEATURE_NOT_AVAILABLE');
    const after = await rolloutEntries();
    expect(after).toHaveLength(before.length + 1);
    expect(after).toContainEqual({ action: 'ROLLOUT_RULE_CREATED', reason: 'Payment outage in MX', targetLabel: 'group_chats/MX/*' });

    await page.goto(consoleUrl('AuditEntry'));
    const row = page.locator('tr', { hasText: 'Payment outage in MX' });
    await expectText(row.getByTestId('audit-target'), 'group_chats/MX/*');
    await expectText(row.getByTestId('audit-details'), 'whole regionyes');
    await expectText(row.getByTestId('audit-details'), 'enabledoff');
  });
});

describe('AI attempts', () => {
  it('the dashboard counts failed, uncharged attempts apart from answered ones, and the user page says why each failed', async () => {
    const [payer, friend] = await api.users(2);
    const groupId = await api.group(payer, [friend], 'Dinner plans');
    for (const [reply, body] of [
      [{ text: 'The noodle bar on 5th.' }, '@AI where should we eat?'],
      [{ status: 500 }, '@AI and for dessert?'],
      [{ text: '' }, '@AI any late bars?'],
    ] as const) {
      fake.enqueue(reply);
      await api.send(payer, groupId, body);
      await settled(api);
    }
    expect((await aiMessages(api, friend, groupId)).map((m) => [m.status, m.statusReason])).toEqual([
      ['COMPLETED', null],
      ['FAILED', 'PROVIDER_ERROR'],
      ['FAILED', 'EMPTY_RESPONSE'],
    ]);
    const { dashboard } = await staffOk(api, admin.token, `{ dashboard { aiAttempts { answered failedUncharged } failuresByReason { reason count } } }`);
    expect(dashboard.aiAttempts.failedUncharged).toBeGreaterThanOrEqual(2);

    await page.goto(consoleUrl());
    await expectText(page.getByTestId('attempts-failed'), String(dashboard.aiAttempts.failedUncharged));
    await expectText(page.getByTestId('attempts-answered'), String(dashboard.aiAttempts.answered));
    for (const { reason, count } of dashboard.failuresByReason) await expectText(page.getByTestId('failures-by-reason'), `${reason}${count}`);
    await expectText(page.getByTestId('ai-attempts'), /Failed\d+not charged/);
    await screenshot(page, 'dashboard-ai-attempts');

    await page.goto(consoleUrl(`User/${encodeURIComponent(payer.id)}/show`));
    await page.getByTestId('responses-table').waitFor();
    const failed = page.locator('tr[data-status="FAILED"]');
    await expectText(failed.first().getByTestId('response-reason'), 'EMPTY_RESPONSE');
    await expectText(failed.nth(1).getByTestId('response-reason'), /PROVIDER_ERROR.*provider returned an error/);
    await expectText(failed.first(), 'no (free)');
    await expectText(page.locator('tr[data-status="COMPLETED"]').getByTestId('response-reason'), '—');
    await screenshot(page, 'user-show-failed-reasons');
  });
});
