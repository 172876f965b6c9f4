/**
 * The safety review in the console (issue 12, item 4), in a real headless Chromium against
 * the built console: a case that moderation and a member both raised shows both sources and
 * settles them with its decision; a message removed from the thread stays readable on its
 * case, labelled as removed, while members get the tombstone; purged evidence says so.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { startApi, TestApi } from '../support/harness';
import { createStaff, origin, REPORT_MESSAGE, TestStaff } from '../support/admin';
import { settled } from '../ai/ai-support';
import { consolePage, ensureConsoleBuilt, freshContext, launchBrowser, pageErrors, screenshot, signInConsole } from './browser';
import { expectText, expectCount } from './page-expect';

jest.setTimeout(90_000);

let api: TestApi;
let browser: Browser;
let moderator: TestStaff;
let page: Page;
let errors: Error[];

const consoleUrl = (hash: string) => consolePage(origin(api), hash);

beforeAll(async () => {
  ensureConsoleBuilt();
  [api, browser] = await Promise.all([startApi({ SAFETY_EVIDENCE_RETENTION_DAYS: '30' }), launchBrowser()]);
  moderator = await createStaff(api, { role: 'moderator' });
  page = await (await freshContext(browser)).newPage();
  errors = pageErrors(page);
  await signInConsole(page, origin(api), moderator.email, moderator.password);
  await page.getByTestId('dashboard').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

afterEach(() => {
  expect(errors.map((e) => e.message)).toEqual([]);
});

async function caseOf(messageId: string): Promise<string> {
  const [c] = await api.query<{ id: string }>(`SELECT id FROM safety_cases WHERE message_id = $1 AND status = 'OPEN'`, [messageId]);
  return c.id;
}

/** Loads the case page afresh (a reload, so nothing comes from the console's cache). */
async function openCase(id: string): Promise<void> {
  await page.goto(consoleUrl(`SafetyCase/${encodeURIComponent(id)}/show`));
  await page.reload();
  await page.getByTestId('case-context').waitFor();
}

async function decide(testId: string, reason: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByTestId(`${testId}-reason`).fill(reason);
  await page.getByTestId(`${testId}-confirm`).click();
  await page.getByTestId(`${testId}-confirm`).waitFor({ state: 'detached' });
}

describe('safety review', () => {
  it('a message flagged by moderation and reported by a member is one case listing both sources, both settled by the decision', async () => {
    const [author, reporter] = await api.users(2);
    const groupId = await api.group(author, [reporter], 'Book club');
    const body = `you are such a fucking idiot ${randomUUID().slice(0, 6)}`;
    const m = await api.send(author, groupId, body);
    await settled(api);
    await api.ok(reporter.token, REPORT_MESSAGE, { m: m.id, r: 'name-calling again' });
    const caseId = await caseOf(m.id);

    await openCase(caseId);
    const sources = page.getByTestId('case-source');
    await expectCount(sources, 2);
    await expectText(sources.nth(0), /automatic flag/i);
    expect(await sources.nth(0).getAttribute('data-kind')).toBe('AUTO_FLAG');
    await expectText(sources.nth(1), new RegExp(`User report\\s*by @${reporter.username}`));
    await expectText(sources.nth(1), 'name-calling again');
    await expectText(page.getByTestId('evidence-text'), body);
    expect(await page.getByTestId('evidence-removed').count()).toBe(0);
    await screenshot(page, 'case-merged-sources');

    await decide('decide-dismiss', 'Friends teasing each other');
    await expectText(page.getByTestId('case-decision'), /dismissed/i);
    await expectText(sources.nth(0), /settled · dismissed/);
    await expectText(sources.nth(1), /settled · dismissed/);
  });

  it("a removed message's case still shows what was said, labelled removed from the thread; members see only the tombstone", async () => {
    const [author, reporter] = await api.users(2);
    const groupId = await api.group(author, [reporter], 'Climbing');
    const body = `send me your home address or else ${randomUUID().slice(0, 6)}`;
    const m = await api.send(author, groupId, body);
    await api.ok(reporter.token, REPORT_MESSAGE, { m: m.id, r: 'threatening' });
    const caseId = await caseOf(m.id);

    await openCase(caseId);
    await expectText(page.getByTestId('flagged-message'), body);
    await decide('decide-remove', 'Threat against a member');
    await expectText(page.getByTestId('case-decision'), /message removed/i);

    // After a reload too: what members saw is gone from the thread, the case keeps it.
    await openCase(caseId);
    await expectText(page.getByTestId('flagged-message'), 'This message was removed.');
    expect(await page.getByTestId('flagged-message').textContent()).not.toContain(body);
    await expectText(page.getByTestId('evidence-text'), body);
    await expectText(page.getByTestId('evidence-removed'), /removed from the thread/i);
    await expectText(page.getByTestId('case-evidence'), /members see only the tombstone.*30 days after the decision/i);
    await screenshot(page, 'case-evidence-removed');

    const seen = await api.ok(reporter.token, `query($g: ID!) { messages(groupId: $g, first: 20) { edges { node { id body status } } } }`, { g: groupId });
    expect(seen.messages.edges.map((e: any) => e.node).find((x: any) => x.id === m.id)).toEqual({ id: m.id, body: '', status: 'DELETED' });

    // Past the retention period the worker purges it, and the case says so.
    await api.query(`UPDATE safety_cases SET decided_at = now() - interval '31 days' WHERE id = $1`, [caseId]);
    await api.query(`SELECT graphile_worker.add_job('safety.purge-evidence', '{}'::json)`);
    await settled(api);
    await openCase(caseId);
    await expectText(page.getByTestId('evidence-purged'), /evidence purged on .*, 30 days after the decision/i);
    expect(await page.getByTestId('case-evidence').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain(body);
  });
});
