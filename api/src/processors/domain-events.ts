/**
 * What happened, told to the processors (processors/processors.ts) once it has committed.
 * Typed by name, so a processor says which it handles and gets the right shape.
 */
import type { MessageType } from '../messages/message.type';
import type { GroupAtSend } from '../messages/message-sender';
import type { UserEntity } from '../users/user.entity';

export type DomainEvent =
  /** A human message was committed and published. */
  | {
      name: 'messages.created';
      message: MessageType;
      author: UserEntity;
      group: GroupAtSend;
      /** Its `ai.respond` job, when this process is to run it at once (ai/respond-here.processor.ts): the job's id and when it committed (performance.now()). */
      aiJobHere: { id: string; committedAt: number } | null;
    }
  /** A human message's text was edited, committed and published. */
  | { name: 'messages.edited'; message: MessageType; author: UserEntity };

export type DomainEventName = DomainEvent['name'];
export type DomainEventOf<N extends DomainEventName> = Extract<DomainEvent, { name: N }>;
