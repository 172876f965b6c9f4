/**
 * The GraphQL explorer end to end (README "GraphQL explorer"): a real headless Chromium
 * opens GET /graphql on an API in development, GraphiQL runs a query with the
 * development token the page was given and a groupEvents subscription over graphql-ws,
 * and the browser asks nothing of any other origin.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../support/harness';
import { origin } from '../support/admin';
import { DevApi, ensureExplorerBuilt, startDevApi } from '../support/explorer';
import { EXPLORER_DEV_USER } from '../../api/src/graphql/explorer';
import { freshContext, launchBrowser, pageErrors, screenshot } from './browser';

jest.setTimeout(90_000);

let dev: DevApi;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: Error[];
/** Every URL the browser asked for (pages, scripts, workers, fetches, WebSockets). */
const requested: string[] = [];
/** What the CSP refused, from the browser's console. */
const refused: string[] = [];

beforeAll(async () => {
  ensureExplorerBuilt();
  [dev, browser] = await Promise.all([startDevApi(), launchBrowser()]);
  context = await freshContext(browser);
  context.on('request', (r) => requested.push(r.url()));
  page = await context.newPage();
  page.on('websocket', (ws) => requested.push(ws.url()));
  page.on('worker', (w) => requested.push(w.url()));
  page.on('console', (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && refused.push(m.text()));
  errors = pageErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
});

afterEach(async () => {
  // What the page looked like when the test ended, passed or failed.
  await screenshot(page, `explorer-${expect.getState().currentTestName?.replace(/\W+/g, '-').slice(0, 60)}`);
  expect(errors.map((e) => e.message)).toEqual([]);
  expect(refused).toEqual([]);
  // Nothing from a CDN or anywhere else: the API's own origin, over HTTP or WebSocket.
  const own = new URL(origin(dev.api));
  const foreign = requested.filter((u) => {
    const url = new URL(u);
    return url.host !== own.host || !['http:', 'ws:'].includes(url.protocol);
  });
  expect(foreign).toEqual([]);
});

/** Opens the explorer and waits until it is ready: the development token is in the headers editor. */
async function open(p: Page): Promise<void> {
  await p.goto(`${origin(dev.api)}/graphql`);
  await p.getByTestId('explorer-identity').filter({ hasText: EXPLORER_DEV_USER.sub }).waitFor();
  // The token is in the headers editor, where it can be replaced.
  await p.locator('.graphiql-editor-tool .monaco-editor .view-lines', { hasText: 'Bearer ey' }).first().waitFor();
}

/**
 * Replaces the operation editor's text (Monaco) with a named operation and runs it with
 * the execute button, once the tab carries its name: GraphiQL takes the operation (and
 * its history entry) from the tab, which follows the editor a moment later.
 */
async function run(p: Page, name: string, operation: string): Promise<void> {
  const editor = p.locator('.graphiql-query-editor .monaco-editor').first();
  await editor.click();
  await p.keyboard.press('ControlOrMeta+A');
  await p.keyboard.press('Delete');
  // Inserted as a whole, as a paste is: Monaco does not auto-close the braces.
  await p.keyboard.insertText(operation);
  await p.locator('.graphiql-tab-active', { hasText: name }).waitFor();
  await p.locator('.graphiql-execute-button').click();
}

const RESPONSE = '.graphiql-response .monaco-editor .view-lines';

/** The response pane's text once it shows `text`, with Monaco's non-breaking spaces made plain. */
async function responseContains(p: Page, text: string): Promise<string> {
  const pane = p.locator(RESPONSE, { hasText: text }).first();
  await pane.waitFor({ timeout: 15_000 });
  return (await pane.innerText()).replace(/\u00a0/g, ' ');
}

/** The pane's JSON without the layout: Monaco wraps long lines and marks the whitespace at a wrap. */
const compact = (text: string) => text.replace(/[\s·]+/g, '');

/** Open groupEvents subscriptions in the server process, from its metrics. */
async function activeSubscriptions(): Promise<number> {
  const text = await (await fetch(`${origin(dev.api)}/metrics`)).text();
  return Number(/^roundtable_subscriptions_active (\d+)/m.exec(text)![1]);
}

describe('GraphQL explorer', () => {
  it('opens at /graphql in development and runs `me` with the development token', async () => {
    await open(page);
    await run(page, 'MyAccount', 'query MyAccount { me { id plan ageBand } }');
    const text = await responseContains(page, '"id"');
    // The user the development token names, as the API sees it over HTTP.
    const me = await dev.api.ok(await dev.token(EXPLORER_DEV_USER.sub), `{ me { id } }`);
    expect(compact(text)).toBe(JSON.stringify({ data: { me: { id: me.me.id, plan: 'pro', ageBand: 'adult' } } }));
  });

  it("shows the schema's documentation, read by introspection through the API's limits", async () => {
    await open(page);
    const docs = page.locator('.graphiql-doc-explorer');
    if (!(await docs.isVisible())) await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await docs.filter({ hasText: 'Subscription' }).waitFor();
    await docs.getByText('Query', { exact: true }).click();
    await docs.filter({ hasText: 'groups' }).filter({ hasText: 'serverInfo' }).waitFor();
  });

  it('keeps the history of operations run', async () => {
    await open(page);
    await run(page, 'ServerKind', 'query ServerKind { serverInfo { __typename } }');
    await responseContains(page, '"ServerInfo"');
    await page.getByRole('button', { name: 'Show History' }).click();
    // The query of the test before, kept across the reload (localStorage), and this one.
    await page.locator('.graphiql-history-item', { hasText: 'ServerKind' }).first().waitFor();
    await page.locator('.graphiql-history-item', { hasText: 'MyAccount' }).first().waitFor();
  });

  it('runs a groupEvents subscription over graphql-ws and shows an event sent over HTTP after it started', async () => {
    // The explorer's user in a group with Bob, who sends the message over HTTP.
    const explorerUser = await dev.user(EXPLORER_DEV_USER.sub);
    const bob = await dev.user();
    const group = await dev.api.ok(bob.token, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`, { i: { title: 'Explorer group', memberUsernames: [explorerUser.username] } });
    const groupId = group.createGroup.id;

    await open(page);
    const before = await activeSubscriptions();
    await run(page, 'LiveGroupEvents', `subscription LiveGroupEvents { groupEvents(groupId: "${groupId}") { type message { body author { id } } } }`);
    // Live on the server before anything is sent: the event can only arrive through it.
    await eventually(async () => (await activeSubscriptions()) === before + 1, 15_000);

    // No spaces: the pane's layout is compacted away before comparing.
    const body = `hello-over-http-${randomUUID().slice(0, 8)}`;
    await dev.api.ok(bob.token, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, { i: { groupId, body, clientMessageId: randomUUID() } });
    const text = await responseContains(page, body);
    expect(compact(text)).toContain(JSON.stringify({ type: 'MESSAGE_CREATED', message: { body, author: { id: bob.id } } }));
    expect(requested.filter((u) => u.startsWith('ws:'))).toEqual([`${origin(dev.api).replace(/^http/, 'ws')}/graphql`]);
  });
});
