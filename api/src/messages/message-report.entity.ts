import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('message_reports')
export class MessageReportEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'message_id', type: 'uuid' }) messageId: string;
  @Column({ name: 'group_id', type: 'uuid' }) groupId: string;
  @Column({ name: 'reporter_id', type: 'uuid' }) reporterId: string;
  @Column({ type: 'text' }) reason: string;
  @Column({ type: 'text' }) status: 'OPEN' | 'RESOLVED';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
