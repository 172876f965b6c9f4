import { GroupMemberEntity } from '../groups/group-member.entity';
import { GroupEntity } from '../groups/group.entity';
import { InviteEntity } from '../invites/invite.entity';
import { MessageReportEntity } from '../messages/message-report.entity';
import { MessageEntity } from '../messages/message.entity';
import { UserEntity } from '../users/user.entity';

export const ENTITIES = [UserEntity, GroupEntity, GroupMemberEntity, InviteEntity, MessageEntity, MessageReportEntity];
