import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AiMode } from '../domain/ai-mode';

export type SafetyProfile = 'STANDARD' | 'TEEN';

@Entity('groups')
export class GroupEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) title: string;
  @Column({ name: 'custom_instructions', type: 'text' }) customInstructions: string;
  @Column({ name: 'ai_mode', type: 'text' }) aiMode: AiMode;
  @Column({ name: 'safety_profile', type: 'text' }) safetyProfile: SafetyProfile;
  @Column({ name: 'owner_id', type: 'uuid', nullable: true }) ownerId: string | null;
  @Column({ name: 'member_count', type: 'int' }) memberCount: number;
  /** Last sequence number handed out; bigint read as a JS number (safe below 2^53). */
  @Column({ name: 'last_seq', type: 'bigint', transformer: { from: Number, to: (v: number) => v } }) lastSeq: number;
  @Column({ name: 'last_event_at', type: 'timestamptz' }) lastEventAt: Date;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
