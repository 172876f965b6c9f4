import pino from 'pino';
import type { DomainEventOf } from './domain-events';
import { Processor, Processors } from './processors';

const edited = { name: 'messages.edited', message: { id: 'm1' }, author: { id: 'u1' } } as unknown as DomainEventOf<'messages.edited'>;
const created = { name: 'messages.created', message: { id: 'm2' }, author: { id: 'u1' }, group: { aiMode: 'OFF', safetyProfile: 'STANDARD' } } as unknown as DomainEventOf<'messages.created'>;

function recorder(name: string, events: Processor['events'], seen: string[], perform?: () => Promise<void>): Processor {
  return {
    name,
    events,
    async perform(event) {
      seen.push(`${name}:${event.name}:${event.message.id}`);
      await perform?.();
    },
  };
}

describe('Processors', () => {
  it('hands each event to the processors that name it, and only to them', async () => {
    const seen: string[] = [];
    const processors = new Processors(pino({ level: 'silent' }));
    processors.register(recorder('both', ['messages.created', 'messages.edited'], seen));
    processors.register(recorder('edits', ['messages.edited'], seen));
    processors.emit(created);
    processors.emit(edited);
    await processors.idle();
    expect(seen.sort()).toEqual(['both:messages.created:m2', 'both:messages.edited:m1', 'edits:messages.edited:m1']);
  });

  it('never throws into the caller, runs the other processors, and logs the failure', async () => {
    const seen: string[] = [];
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const processors = new Processors(log);
    processors.register(recorder('broken', ['messages.created'], seen, async () => Promise.reject(new Error('boom'))));
    processors.register(recorder('fine', ['messages.created'], seen));
    expect(() => processors.emit(created)).not.toThrow();
    await processors.idle();
    expect(seen.sort()).toEqual(['broken:messages.created:m2', 'fine:messages.created:m2']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ processor: 'broken', event: 'messages.created', msg: 'processor failed' });
  });

  it('idle waits for work still under way, including work emitted meanwhile', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const processors = new Processors(pino({ level: 'silent' }));
    processors.register(recorder('slow', ['messages.created'], seen, () => held));
    processors.register(recorder('chain', ['messages.edited'], seen, async () => processors.emit(created)));
    processors.emit(edited);
    let idle = false;
    const waiting = processors.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(seen).toEqual(['chain:messages.edited:m1', 'slow:messages.created:m2']);
  });
});
