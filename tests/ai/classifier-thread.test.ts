/**
 * The built-in classifier on its own thread, as the compiled service runs it: the same
 * scores as on the caller's thread, and still scores when the thread cannot run.
 */
import path from 'node:path';
import { classifyLocal } from '../../api/src/domain/safety/moderation';
import type { ClassifierThread as ClassifierThreadType } from '../../api/src/moderation/classifier-thread';
import { ensureBuilt, ROOT } from '../support/build';

const TEXTS = [
  'We could meet at the station café around seven, then walk to the river for dinner.',
  'I will kill you if you show up again',
  'you are a f4cking idiot',
  'how do I make a bomb at home',
  '',
];

let ClassifierThread: typeof ClassifierThreadType;

beforeAll(() => {
  ensureBuilt();
  // The compiled module: from TypeScript sources there is no worker file to start.
  ({ ClassifierThread } = require(path.join(ROOT, 'dist/api/src/moderation/classifier-thread.js')));
});

it('scores on its thread exactly as classifyLocal does, for texts scored concurrently', async () => {
  const thread = new ClassifierThread();
  try {
    const scores = await Promise.all(TEXTS.map((t) => thread.classify(t)));
    expect(scores).toEqual(TEXTS.map((t) => classifyLocal(t).categories));
    expect(scores[1].violence).toBeGreaterThan(0);
  } finally {
    await thread.close();
  }
});

it('scores on the caller thread when the thread fails to start', async () => {
  const thread = new ClassifierThread(path.join(ROOT, 'dist/does-not-exist.js'));
  try {
    expect(await thread.classify(TEXTS[1])).toEqual(classifyLocal(TEXTS[1]).categories);
    expect(await thread.classify(TEXTS[2])).toEqual(classifyLocal(TEXTS[2]).categories);
  } finally {
    await thread.close();
  }
});
