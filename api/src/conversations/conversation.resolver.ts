import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { badInput } from '../errors';
import { ConversationMessageType, ConversationType, PrivateExchangeType } from './conversation.type';

const MAX_PAGE = 100;

const pageSize = (first: number, name: string): number => {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`${name} must be from 1 to ${MAX_PAGE}`, name);
  return first;
};

/** One query per request for the messages of every conversation in a list (per page shape). */
const messageLoaders = new WeakMap<object, Map<string, DataLoader<string, ConversationMessageType[]>>>();

function messageLoader(ctx: Context, first: number, before: number | null): DataLoader<string, ConversationMessageType[]> {
  let byShape = messageLoaders.get(ctx.loaders);
  if (!byShape) messageLoaders.set(ctx.loaders, (byShape = new Map()));
  const key = `${first}:${before ?? ''}`;
  let loader = byShape.get(key);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const found = await ctx.services.conversations.messagesOf(ids, first, before);
      return ids.map((id) => found.get(id) ?? []);
    });
    byShape.set(key, loader);
  }
  return loader;
}

@Resolver(() => ConversationType)
export class ConversationResolver {
  @Authorized()
  @Query(() => [ConversationType], { description: "The caller's private conversations with the AI, most recently active first" })
  conversations(@Ctx() ctx: Context, @Arg('first', () => Int, { defaultValue: 20 }) first: number): Promise<ConversationType[]> {
    return ctx.services.conversations.list(currentUser(ctx), pageSize(first, 'first'));
  }

  @Authorized()
  @Query(() => ConversationType, { description: "One of the caller's private conversations; NOT_FOUND for anyone else's" })
  conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<ConversationType> {
    return ctx.services.conversations.get(currentUser(ctx), id);
  }

  @Authorized()
  @Mutation(() => ConversationType, { description: 'Starts a private conversation with the AI (title: at most 100 characters)' })
  startConversation(@Ctx() ctx: Context, @Arg('title', () => String, { nullable: true }) title?: string | null): Promise<ConversationType> {
    return ctx.services.conversations.start(currentUser(ctx), title);
  }

  @Authorized()
  @Mutation(() => PrivateExchangeType, {
    description: 'Sends a message (1 to 8,000 characters) and returns it with the AI\'s reply; "remember that …" also saves a memory',
  })
  sendPrivateMessage(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('body', () => String) body: string,
    @Ctx() ctx: Context,
  ): Promise<PrivateExchangeType> {
    return ctx.services.conversations.send(currentUser(ctx), conversationId, body);
  }

  @FieldResolver(() => [ConversationMessageType], { description: 'The newest `first` messages (before seq `before`), oldest first; at most 100' })
  messages(
    @Root() conversation: ConversationType,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('before', () => Int, { nullable: true }) before?: number | null,
  ): Promise<ConversationMessageType[]> {
    return messageLoader(ctx, pageSize(first, 'first'), before ?? null).load(conversation.id);
  }
}
