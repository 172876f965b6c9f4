import net from 'node:net';
import { BackgroundLane } from './background-lane';

/** About `ms` of work on the event loop, as a slice of a reply's setup would be. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('BackgroundLane', () => {
  it('lets its waiters go in order, every one of them', async () => {
    const lane = new BackgroundLane();
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => lane.turn().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    // Idle again, it still serves later waiters.
    await lane.turn();
  });

  it('handles data that arrives on a socket while a backlog of work waits in the lane before most of that backlog', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const socket = await new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const lane = new BackgroundLane();
      let stepsDone = 0;
      let stepsBeforeData = -1;
      socket.once('data', () => (stepsBeforeData = stepsDone));
      const backlog = Array.from({ length: 40 }, () =>
        lane.turn().then(() => {
          busy(1);
          stepsDone++;
          // The first step has run: the data is on its way while 39 steps still wait.
          if (stepsDone === 1) client.write('token');
        }),
      );
      await Promise.all(backlog);
      expect(stepsBeforeData).toBeGreaterThanOrEqual(1);
      expect(stepsBeforeData).toBeLessThan(10);
    } finally {
      client.destroy();
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
