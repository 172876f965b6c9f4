import { BLOCK_REASONS, FAILURE_REASONS, failureReason, payerOf, ReplyOutcome, Settlement, settlement } from './settlement';

describe('settlement', () => {
  // Every outcome a reply can end with, and what it costs the payer.
  const table: Array<[ReplyOutcome, Settlement]> = [
    [{ status: 'COMPLETED' }, 'CHARGED'],
    [{ status: 'BLOCKED', reason: 'CONTENT_BLOCKED' }, 'CHARGED'],
    [{ status: 'BLOCKED', reason: 'INPUT_BLOCKED' }, 'FREE'],
    [{ status: 'BLOCKED', reason: 'MODERATION_UNAVAILABLE' }, 'FREE'],
    [{ status: 'FAILED', reason: 'PROVIDER_ERROR' }, 'FREE'],
    [{ status: 'FAILED', reason: 'TIMEOUT' }, 'FREE'],
    [{ status: 'FAILED', reason: 'CANCELLED' }, 'FREE'],
    [{ status: 'FAILED', reason: 'PROVIDER_NOT_CONFIGURED' }, 'FREE'],
    [{ status: 'FAILED', reason: 'EMPTY_RESPONSE' }, 'FREE'],
    [{ status: 'FAILED', reason: 'MODERATION_UNAVAILABLE' }, 'FREE'],
    [{ status: 'FAILED', reason: 'INTERRUPTED' }, 'FREE'],
    [{ status: 'FAILED', reason: 'QUOTA_EXCEEDED' }, 'FREE'],
    [{ status: 'FAILED', reason: 'INPUT_BLOCKED' }, 'FREE'],
    [{ status: 'FAILED', reason: 'INTERNAL' }, 'FREE'],
  ];

  it.each(table)('%j is %s', (outcome, expected) => {
    expect(settlement(outcome)).toBe(expected);
  });

  it('the table lists every reason there is', () => {
    const listed = (status: string) => table.filter(([o]) => o.status === status).map(([o]) => ('reason' in o ? o.reason : null));
    expect(listed('FAILED').sort()).toEqual([...FAILURE_REASONS].sort());
    expect(listed('BLOCKED').sort()).toEqual([...BLOCK_REASONS].sort());
  });

  it('reads an unknown failure reason as INTERNAL, which is free', () => {
    expect(failureReason('TIMEOUT')).toBe('TIMEOUT');
    expect(failureReason('SOMETHING_NEW')).toBe('INTERNAL');
  });
});

describe('payerOf', () => {
  it('in a group, charges the author of the triggering message', () => {
    expect(payerOf({ chat: 'GROUP', kind: 'USER', authorId: 'alice' })).toBe('alice');
  });

  it('in a private chat, charges its one person', () => {
    expect(payerOf({ chat: 'PRIVATE', role: 'USER', ownerId: 'bob' })).toBe('bob');
  });

  it('has nobody to charge for a trigger that is not a person’s message', () => {
    expect(payerOf({ chat: 'GROUP', kind: 'AI', authorId: null })).toBeNull();
    expect(payerOf({ chat: 'GROUP', kind: 'SYSTEM', authorId: null })).toBeNull();
    expect(payerOf({ chat: 'GROUP', kind: 'USER', authorId: null })).toBeNull();
    expect(payerOf({ chat: 'PRIVATE', role: 'AI', ownerId: 'bob' })).toBeNull();
  });
});
