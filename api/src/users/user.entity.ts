import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Plan } from '../domain/plan';

export type AgeBand = 'adult' | 'minor';

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** The identity provider's `sub`. */
  @Column({ type: 'text', unique: true }) subject: string;
  @Column({ type: 'text', nullable: true }) region: string | null;
  @Column({ type: 'text' }) plan: Plan;
  @Column({ name: 'age_band', type: 'text', nullable: true }) ageBand: AgeBand | null;
  @Column({ name: 'parental_group_chats', type: 'boolean' }) parentalGroupChats: boolean;
  @Column({ name: 'display_name', type: 'text', nullable: true }) displayName: string | null;
  @Column({ type: 'text', nullable: true }) username: string | null;
  @Column({ name: 'photo_url', type: 'text', nullable: true }) photoUrl: string | null;
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true }) suspendedAt: Date | null;
  @Column({ name: 'suspended_reason', type: 'text', nullable: true }) suspendedReason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export const hasPublicProfile = (u: Pick<UserEntity, 'username' | 'displayName'>) => !!u.username && !!u.displayName;
