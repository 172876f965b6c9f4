import { replyContext } from './reply-context';

const history = [1, 2, 3, 4, 5].map((seq) => ({ id: `m${seq}`, seq }));

describe('replyContext', () => {
  it.each([
    [5, ['m1', 'm2', 'm3', 'm4', 'm5'], 1, 5],
    [2, ['m4', 'm5'], 4, 5],
    [1, ['m5'], 5, 5],
  ])('with the newest %i of 5 in the prompt, names exactly those, oldest first', (included, ids, fromSeq, toSeq) => {
    expect(replyContext(history, included, false)).toEqual({ messageIds: ids, fromSeq, toSeq, messageCount: included, customInstructions: false });
  });

  it('reads nothing when nothing was included, and says whether custom instructions were', () => {
    expect(replyContext(history, 0, true)).toEqual({ messageIds: [], fromSeq: null, toSeq: null, messageCount: 0, customInstructions: true });
    expect(replyContext([], 0, false).messageCount).toBe(0);
  });
});
