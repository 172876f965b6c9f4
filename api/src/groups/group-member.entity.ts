import { Column, Entity, PrimaryColumn } from 'typeorm';

export type MemberRole = 'OWNER' | 'MEMBER';

@Entity('group_members')
export class GroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' }) groupId: string;
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ type: 'text' }) role: MemberRole;
  @Column({ name: 'joined_at', type: 'timestamptz' }) joinedAt: Date;
  /** Muted until this time; 'infinity' (read as an invalid Date) means forever. */
  @Column({ name: 'muted_until', type: 'timestamptz', nullable: true }) mutedUntil: Date | null;
  @Column({ name: 'last_read_seq', type: 'bigint', transformer: { from: Number, to: (v: number) => v } }) lastReadSeq: number;
}
