/**
 * Issue 11, item 3: on shutdown every subscription's socket is closed with 1012 (service
 * restart), with no `complete` before it, so clients reconnect and resubscribe with
 * afterSeq (README, "Reconnecting"). Checked in-process (app.stop()) and on SIGTERM of
 * the compiled service.
 */
import type { App } from '../../api/src/app';
import { freePort } from '../../api/src/db/embedded';
import { ensureBuilt } from '../support/build';
import { createDatabase, startApi, TestApi } from '../support/harness';
import { CloseInfo, RawGraphqlWs } from '../support/raw-graphql-ws';
import { startService, untilReady } from './service';

beforeAll(ensureBuilt, 120_000);
afterEach(() => RawGraphqlWs.closeAll());

const EVENTS = `subscription($g: ID!, $a: Int) { groupEvents(groupId: $g, afterSeq: $a) { seq type } }`;

interface Watched {
  closed: Promise<CloseInfo>;
  /** Whether the subscription ended while the socket was still open (a `complete` or `error` frame). */
  endedOpen: () => boolean | null;
}

/** A live groupEvents subscription on its own socket: resolves once its first event arrived. */
async function liveSubscription(api: TestApi): Promise<Watched> {
  const [alice, bob] = await api.users(2);
  const groupId = await api.group(alice, [bob]);
  await api.send(alice, groupId, 'hello');
  const s = await RawGraphqlWs.connect(api.wsUrl, bob.token);
  let endedOpen: boolean | null = null;
  let first: () => void = () => {};
  const arrived = new Promise<void>((r) => (first = r));
  s.subscribe(EVENTS, { g: groupId, a: 0 }, () => first(), () => (endedOpen = s.isOpen));
  await arrived;
  return { closed: s.closed, endedOpen: () => endedOpen };
}

it('app.stop() closes subscription sockets with 1012 Service restart', async () => {
  const api = await startApi();
  const sub = await liveSubscription(api);
  await api.app.stop();
  expect(await sub.closed).toEqual({ code: 1012, reason: 'Service restart' });
  expect(sub.endedOpen()).toBe(false);
});

it('SIGTERM of the compiled service closes subscription sockets with 1012 and exits 0', async () => {
  const port = await freePort();
  const databaseUrl = await createDatabase();
  const svc = startService({ PORT: String(port), DATABASE_URL: databaseUrl });
  try {
    await untilReady(svc, `http://127.0.0.1:${port}/readyz`);
    const api = new TestApi(null as unknown as App, `http://127.0.0.1:${port}/graphql`, databaseUrl);
    const sub = await liveSubscription(api);
    svc.child.kill('SIGTERM');
    expect(await sub.closed).toEqual({ code: 1012, reason: 'Service restart' });
    expect(sub.endedOpen()).toBe(false);
    expect(await svc.exited).toEqual({ code: 0, signal: null });
    expect(svc.output()).toContain('"msg":"stopped"');
  } finally {
    svc.kill();
  }
});
