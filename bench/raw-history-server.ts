/**
 * bench:history's raw baseline, its own process: the same page by hand. A membership check,
 * then one statement for the page (index range on messages (group_id, seq), authors and
 * reactions joined), JSON.stringify, over plain node:http. No GraphQL, no auth, no limits.
 * GET /?g=<group>&u=<user>&before=<seq>: the newest 100 messages (before `before`).
 */
import http from 'node:http';
import { Pool } from 'pg';

const PAGE = `SELECT m.id, m.seq::int AS seq, m.body, m.status, json_build_object('id', a.id, 'username', a.username, 'displayName', a.display_name) AS author,
                 coalesce((SELECT json_agg(json_build_object('emoji', r.emoji)) FROM reactions r WHERE r.message_id = m.id), '[]') AS reactions
            FROM messages m LEFT JOIN users a ON a.id = m.author_id
           WHERE m.group_id = $1 AND m.seq < $2
           ORDER BY m.seq DESC LIMIT 101`;

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://raw');
    const g = url.searchParams.get('g');
    const u = url.searchParams.get('u');
    const before = Number(url.searchParams.get('before') ?? Number.MAX_SAFE_INTEGER);
    void (async () => {
      const member = await pool.query(`SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2`, [g, u]);
      if (member.rowCount === 0) {
        res.writeHead(404).end();
        return;
      }
      const { rows } = await pool.query(PAGE, [g, before]);
      const page = rows.slice(0, 100).reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messages: page, hasOlder: rows.length > 100 }));
    })().catch((err) => res.writeHead(500).end(String(err)));
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  process.on('message', (m) => {
    if (m === 'stop') server.close(() => void pool.end().then(() => process.exit(0)));
  });
}

void main();
