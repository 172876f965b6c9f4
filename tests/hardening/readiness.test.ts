/**
 * Issue 10, item 9: /readyz answers fast. With PostgreSQL stalled (a TCP proxy between the
 * service and PostgreSQL stops passing bytes, as a hung server or a dead network path
 * does), it answers 503 instead of hanging; with every pooled connection busy it still
 * answers, because its check does not queue behind the pool.
 */
import net from 'node:net';
import { Client as PgClient } from 'pg';
import { createDatabase, eventually, startApi, TestApi } from '../support/harness';

/** Forwards TCP to `target` until frozen; frozen, it accepts connections and passes nothing either way. */
class FreezableProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly held: Array<() => void> = [];
  private frozen = false;

  private constructor(private readonly server: net.Server) {}

  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const server = net.createServer();
    const proxy = new FreezableProxy(server);
    server.on('connection', (client) => {
      const open = () => {
        const upstream = net.connect(target.port, target.host);
        for (const [from, to] of [
          [client, upstream],
          [upstream, client],
        ] as const) {
          proxy.sockets.add(from);
          from.on('data', (d) => to.write(d));
          from.on('close', () => {
            proxy.sockets.delete(from);
            to.destroy();
          });
          from.on('error', () => to.destroy());
          if (proxy.frozen) from.pause();
        }
      };
      if (proxy.frozen) {
        client.pause();
        proxy.sockets.add(client);
        client.on('close', () => proxy.sockets.delete(client));
        client.on('error', () => undefined);
        proxy.held.push(open);
      } else open();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
    for (const open of this.held.splice(0)) open();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** GET /readyz with a client timeout of a few seconds: the assertion is that it answers. */
async function readyz(api: TestApi): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${new URL(api.url).origin}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

describe('/readyz while PostgreSQL is stalled', () => {
  let proxy: FreezableProxy;
  let api: TestApi;

  beforeAll(async () => {
    const direct = new URL(await createDatabase());
    proxy = await FreezableProxy.start({ host: direct.hostname, port: Number(direct.port) });
    const viaProxy = new URL(direct);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    api = await startApi({}, viaProxy.toString());
  });

  afterAll(async () => {
    proxy?.thaw();
    await api?.stop();
    await proxy?.close();
  });

  it('answers 503 instead of hanging, every concurrent probe too, and 200 again once PostgreSQL answers', async () => {
    expect(await readyz(api)).toEqual({ status: 200, body: { status: 'ready' } });

    proxy.freeze();
    const probes = await Promise.all(Array.from({ length: 10 }, () => readyz(api)));
    expect(probes).toEqual(Array.from({ length: 10 }, () => ({ status: 503, body: { status: 'database unreachable' } })));
    // Still stalled: a later probe (a new connection is held by the proxy now) answers too.
    expect(await readyz(api)).toEqual({ status: 503, body: { status: 'database unreachable' } });

    proxy.thaw();
    await eventually(async () => (await readyz(api)).status === 200, 15_000);
  });
});

describe('/readyz while every pooled connection is busy', () => {
  let api: TestApi;
  let holder: PgClient;

  beforeAll(async () => {
    api = await startApi();
    holder = new PgClient({ connectionString: api.databaseUrl });
    await holder.connect();
  });

  afterAll(async () => {
    await holder?.end();
    await api?.stop();
  });

  it('answers (the database is reachable) without queueing behind the pool', async () => {
    const LOCK = 771_001;
    await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
    // More statements than the pool has connections, each waiting on the lock the test holds.
    const blocked = Array.from({ length: 25 }, () => api.app.services.db.query('SELECT pg_advisory_xact_lock($1)', [LOCK]));
    await eventually(async () => {
      const [{ n }] = (await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows;
      return n >= 20;
    }, 10_000);
    // The pool is full: a query of the service's own now waits.
    let poolAnswered = false;
    const queued = api.app.services.db.query('SELECT 1').then(() => (poolAnswered = true));

    expect(await readyz(api)).toEqual({ status: 200, body: { status: 'ready' } });
    expect(poolAnswered).toBe(false);

    await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
    await Promise.all([...blocked, queued]);
  });
});
