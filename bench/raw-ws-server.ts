/**
 * bench:connections' raw baseline: a plain `ws` server holding graphql-transport-ws
 * sockets with the least a subscription needs. It acks `connection_init` (no token
 * check), registers each `subscribe` as `{ socket, id }` in its group's set (the group
 * from `variables.g`), answers pings, and writes `next` frames to a group on request.
 * No GraphQL, no database: what holding N subscribed sockets costs `ws` and Node.
 *
 * IPC: `{ t: 'count' }` -> `{ t: 'count', n }` (live registrations); `{ t: 'send', groupId,
 * frame }` writes `frame` as each registration's payload; `{ t: 'memory' }` (memory-probe.ts);
 * `{ t: 'stop' }`. Reports `{ t: 'ready', port }` once listening.
 */
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { answerMemoryRequests } from './memory-probe';

export type RawWsCommand = { t: 'count' } | { t: 'send'; groupId: string; frame: string } | { t: 'stop' };

interface Registration {
  socket: WebSocket;
  id: string;
}

const groups = new Map<string, Set<Registration>>();
let registrations = 0;

const server = http.createServer();
const wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false) });

wss.on('connection', (socket) => {
  const mine: Array<[Set<Registration>, Registration]> = [];
  socket.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; id?: string; payload?: { variables?: { g?: string } } };
    if (m.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (m.type === 'ping') socket.send('{"type":"pong"}');
    else if (m.type === 'subscribe' && m.id) {
      const g = String(m.payload?.variables?.g);
      let set = groups.get(g);
      if (!set) groups.set(g, (set = new Set()));
      const r = { socket, id: m.id };
      set.add(r);
      mine.push([set, r]);
      registrations++;
    }
  });
  socket.on('close', () => {
    for (const [set, r] of mine) set.delete(r) && registrations--;
  });
});

answerMemoryRequests();
process.on('message', (cmd: RawWsCommand) => {
  if (cmd.t === 'count') process.send!({ t: 'count', n: registrations });
  if (cmd.t === 'send') {
    for (const { socket, id } of groups.get(cmd.groupId) ?? []) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${cmd.frame}}`);
  }
  if (cmd.t === 'stop') {
    for (const c of wss.clients) c.terminate();
    server.close();
    process.exit(0);
  }
});
process.channel?.ref();
server.listen(0, '127.0.0.1', () => process.send!({ t: 'ready', port: (server.address() as { port: number }).port }));
