/** The thread of ClassifierThread: scores texts with the built-in classifier. */
import { parentPort } from 'node:worker_threads';
import { classifyLocal } from '../domain/safety/moderation';

parentPort!.on('message', ({ id, text }: { id: number; text: string }) => {
  parentPort!.postMessage({ id, scores: classifyLocal(text).categories });
});
