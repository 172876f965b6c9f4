import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type MessageKind = 'USER' | 'AI' | 'SYSTEM';
export type MessageStatus = 'SENT' | 'STREAMING' | 'COMPLETED' | 'FAILED' | 'BLOCKED' | 'HIDDEN' | 'DELETED';

const bigintAsNumber = { from: Number, to: (v: number) => v };

@Entity('messages')
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'group_id', type: 'uuid' }) groupId: string;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) seq: number;
  @Column({ type: 'text' }) kind: MessageKind;
  @Column({ name: 'author_id', type: 'uuid', nullable: true }) authorId: string | null;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'text' }) status: MessageStatus;
  @Column({ name: 'status_reason', type: 'text', nullable: true }) statusReason: string | null;
  @Column({ name: 'reply_to_id', type: 'uuid', nullable: true }) replyToId: string | null;
  @Column({ name: 'client_message_id', type: 'text', nullable: true }) clientMessageId: string | null;
  @Column({ name: 'mention_user_ids', type: 'uuid', array: true }) mentionUserIds: string[];
  @Column({ name: 'mentions_ai', type: 'boolean' }) mentionsAi: boolean;
  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true }) editedAt: Date | null;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
