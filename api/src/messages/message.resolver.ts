import { Arg, Authorized, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { setViewer } from '../graphql/viewer';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { badInput } from '../errors';
import { PageInfo } from '../groups/group.resolver';
import { MessageType } from './message.type';

@InputType()
export class SendMessageInput {
  @Field(() => ID) groupId: string;
  @Field(() => String, { description: '1 to 8,000 characters' }) body: string;
  @Field(() => String, { description: 'Client-generated id: a retry with the same id returns the original message' }) clientMessageId: string;
  @Field(() => ID, { nullable: true }) replyToId?: string | null;
}

@ObjectType('MessageEdge', { simpleResolvers: true })
class MessageEdge {
  @Field(() => String, { description: 'The message seq, as a string' }) cursor: string;
  @Field(() => MessageType) node: MessageType;
}

@ObjectType('MessageConnection', { simpleResolvers: true })
class MessageConnection {
  @Field(() => [MessageEdge]) edges: MessageEdge[];
  @Field(() => PageInfo, { description: 'hasPreviousPage: older messages exist; hasNextPage: newer ones do' }) pageInfo: PageInfo;
}

@ObjectType('Report', { simpleResolvers: true })
class ReportType {
  @Field(() => ID) id: string;
}

const parseCursor = (c: string | null | undefined, name: string): number | null => {
  if (c === null || c === undefined) return null;
  if (!/^\d{1,15}$/.test(c)) throw badInput(`${name} must be a cursor from this connection`, name);
  return Number(c);
};

@Resolver()
export class MessageResolver {
  @Authorized()
  @Query(() => MessageConnection, { description: 'History by seq, oldest first; at most 100 per page' })
  async messages(
    @Arg('groupId', () => ID) groupId: string,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('before', () => String, { nullable: true }) before?: string | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<MessageConnection> {
    const page = await ctx.services.messages.history(currentUser(ctx), groupId, first, parseCursor(before, 'before'), parseCursor(after, 'after'));
    const edges = page.messages.map((m) => ({ cursor: String(m.seq), node: m }));
    return {
      edges,
      pageInfo: { hasPreviousPage: page.hasOlder, hasNextPage: page.hasNewer, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Authorized()
  @Mutation(() => MessageType)
  async sendMessage(@Arg('input', () => SendMessageInput) input: SendMessageInput, @Ctx() ctx: Context): Promise<MessageType> {
    if (ctx.user || !ctx.identity) return ctx.services.messages.send(currentUser(ctx), input);
    // A lone sendMessage over HTTP: the statement finds the author by the token's claims (graphql/viewer.ts).
    const identity = ctx.identity;
    const { message, author } = await ctx.services.messages.sendByClaims(identity, input, () => ctx.services.users.upsertFromIdentity(identity));
    setViewer(ctx, author);
    return message;
  }

  @Authorized()
  @Mutation(() => MessageType)
  editMessage(@Arg('messageId', () => ID) messageId: string, @Arg('body', () => String) body: string, @Ctx() ctx: Context): Promise<MessageType> {
    return ctx.services.messages.edit(currentUser(ctx), messageId, body);
  }

  @Authorized()
  @Mutation(() => MessageType, { description: 'Leaves a tombstone (status DELETED, empty body)' })
  deleteMessage(@Arg('messageId', () => ID) messageId: string, @Ctx() ctx: Context): Promise<MessageType> {
    return ctx.services.messages.delete(currentUser(ctx), messageId);
  }

  @Authorized()
  @Mutation(() => MessageType)
  addReaction(@Arg('messageId', () => ID) messageId: string, @Arg('emoji', () => String) emoji: string, @Ctx() ctx: Context): Promise<MessageType> {
    return ctx.services.messages.react(currentUser(ctx), messageId, emoji, true);
  }

  @Authorized()
  @Mutation(() => MessageType)
  removeReaction(@Arg('messageId', () => ID) messageId: string, @Arg('emoji', () => String) emoji: string, @Ctx() ctx: Context): Promise<MessageType> {
    return ctx.services.messages.react(currentUser(ctx), messageId, emoji, false);
  }

  @Authorized()
  @Mutation(() => Int, { description: 'Moves the read position forward to seq; returns the new position' })
  markRead(@Arg('groupId', () => ID) groupId: string, @Arg('seq', () => Int) seq: number, @Ctx() ctx: Context): Promise<number> {
    return ctx.services.messages.markRead(currentUser(ctx), groupId, seq);
  }

  @Authorized()
  @Mutation(() => ReportType, { description: 'Reports a message to staff' })
  async reportMessage(@Arg('messageId', () => ID) messageId: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: Context): Promise<ReportType> {
    return { id: await ctx.services.messages.report(currentUser(ctx), messageId, reason) };
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ephemeral: members see a TYPING event that lapses unless renewed' })
  async setTyping(@Arg('groupId', () => ID) groupId: string, @Arg('isTyping', () => Boolean) isTyping: boolean, @Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.messages.setTyping(currentUser(ctx), groupId, isTyping);
    return true;
  }
}
