import OpenAI from 'openai';
import { FakeOpenAI } from '../support/fake-openai';
it('x', async () => {
  const fake = await FakeOpenAI.start();
  const c = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'k', maxRetries: 0 });
  const r = await c.chat.completions.create({ model: 'mm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi there' }] }] });
  console.log(JSON.stringify(r));
  const s = await c.chat.completions.create({ model: 'mm', messages: [{ role: 'user', content: 'yo' }], stream: true });
  const cs: any[] = []; for await (const ch of s) cs.push(ch); console.log(JSON.stringify(cs));
  const m = await c.moderations.create({ model: 'x', input: ['a', 'b'] }); console.log(m.results.length, m.model);
  fake.enqueue({ status: 429 });
  console.log(await c.chat.completions.create({ model: 'mm', messages: [] }).catch((e) => e.constructor.name + ' ' + e.status + ' ' + e.code));
  fake.enqueue({ hangMs: 10000 });
  const p = c.chat.completions.create({ model: 'mm', messages: [] }).catch((e) => 'rejected ' + e.constructor.name);
  await fake.waitForChatRequests(5);
  const t = performance.now(); await fake.stop(); console.log('stopped in', performance.now() - t, await p, fake.requests.map(q => [q.path, q.aborted]));
});
