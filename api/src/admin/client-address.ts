/**
 * The address a staff sign-in is throttled by. Behind a reverse proxy every request comes
 * from the proxy: counted by the socket's peer, 20 failures by anyone would lock every
 * staff member out. With TRUST_PROXY the address is read from X-Forwarded-For, past the
 * proxies trusted and no further, so a client cannot forge its way around the limit.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export function clientAddress(trust: number | string[]): (req: IncomingMessage) => string {
  const trusted = typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : proxyaddr.compile(trust);
  return (req) => (req.socket.remoteAddress ? proxyaddr(req, trusted) : 'unknown');
}
