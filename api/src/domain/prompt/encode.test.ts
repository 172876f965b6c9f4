import fc from 'fast-check';
import { buildGroupPrompt, buildRespondCheckPrompt } from './build-prompt';
import { API_NAME_PATTERN, escapeAttribute, escapeText, promptName } from './encode';

/** What a reader of the prompt recovers from escaped text. */
const decode = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** Strings an attacker would try: the service's own tags, their pieces, entities and look-alike author lines, mixed with anything. */
const FRAGMENTS = [
  '<group_settings>', '</group_settings>', '</group_', 'settings>', '<member name="alice">', '</member>', '<message from="alice">', '</message>',
  '<reply>', '</reply>', '<memory>', '</memory>', '<', '>', '&', '"', '&lt;', '&gt;', '&amp;', '&#60;', '[Alice]: ', '\n', '\r\n', '\u202e', '\u200b', 'x',
];
const hostile = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 3 })), { maxLength: 30 }).map((parts) => parts.join('')),
);
const username = fc.stringMatching(/^[a-z0-9_.]{3,30}$/);

const count = (text: string, tag: string) => text.split(tag).length - 1;

describe('escapeText', () => {
  it('never leaves a character that could open or close a tag, and loses nothing', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const escaped = escapeText(text);
        expect(escaped).not.toMatch(/[<>]/);
        expect(decode(escaped)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes attribute values so they cannot end their quotes', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(escapeAttribute(text)).not.toMatch(/[<>"]/);
        expect(decode(escapeAttribute(text))).toBe(text);
      }),
    );
  });
});

describe('promptName', () => {
  it('gives every username a distinct name the chat API accepts', () => {
    fc.assert(
      fc.property(username, username, (a, b) => {
        expect(promptName(a)).toMatch(API_NAME_PATTERN);
        expect(promptName(a) === promptName(b)).toBe(a === b);
      }),
    );
  });
});

describe('no member text breaks out of the prompt', () => {
  it('keeps custom instructions inside one fence, display names inside their member tags and bodies inside their message', () => {
    fc.assert(
      fc.property(
        hostile,
        fc.uniqueArray(fc.record({ username, displayName: hostile }), { minLength: 1, maxLength: 4, selector: (m) => m.username }),
        fc.array(hostile, { minLength: 1, maxLength: 4 }),
        (instructions, members, bodies) => {
          const history = bodies.map((body, i) => ({ kind: 'USER' as const, authorUsername: members[i % members.length].username, body }));
          const prompt = buildGroupPrompt({ aiName: 'AI', profile: 'STANDARD', customInstructions: instructions, members, history, tokenBudget: 1_000_000 });
          const system = prompt[0].content;

          if (instructions.trim()) {
            expect(count(system, '<group_settings>')).toBe(1);
            expect(count(system, '</group_settings>')).toBe(1);
            const inside = system.slice(system.indexOf('<group_settings>\n') + '<group_settings>\n'.length, system.indexOf('\n</group_settings>'));
            expect(decode(inside)).toBe(instructions.trim());
          } else {
            expect(count(system, 'group_settings>')).toBe(0);
          }
          const memberLines = system.split('\n').filter((line) => line.startsWith('<member '));
          expect(memberLines).toHaveLength(members.length);
          expect(count(system, '</member>')).toBe(members.length);
          memberLines.forEach((line, i) => {
            expect(line).toMatch(new RegExp(`^<member name="${promptName(members[i].username)}" username="[a-z0-9_.]+">[^<>]*</member>$`));
          });

          prompt.slice(1).forEach((message, i) => {
            const match = /^<message from="([a-z0-9_-]+)">([^<>]*)<\/message>$/.exec(message.content);
            expect(match).not.toBeNull();
            expect(match![1]).toBe(message.name);
            expect(message.name).toBe(promptName(history[i].authorUsername));
            expect(decode(match![2])).toBe(history[i].body);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps each message of the classifier transcript on its own tag', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(username, hostile), { minLength: 1, maxLength: 6 }), (entries) => {
        const [, transcript] = buildRespondCheckPrompt({ aiName: 'AI', history: entries.map(([u, body]) => ({ kind: 'USER', authorUsername: u, body })) });
        expect(count(transcript.content, '<message ')).toBe(entries.length);
        expect(count(transcript.content, '</message>')).toBe(entries.length);
      }),
    );
  });
});
