import 'reflect-metadata';
import { createPubSub } from '@graphql-yoga/subscription';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { authChecker } from './auth/current-user';
import { ConversationResolver } from './conversations/conversation.resolver';
import { GroupEventResolver } from './events/group-event.resolver';
import { GroupResolver } from './groups/group.resolver';
import { InviteResolver } from './invites/invite.resolver';
import { MessageResolver } from './messages/message.resolver';
import { MessageAiResolver } from './messages/message-ai.resolver';
import { MemoryResolver } from './memory/memory.resolver';
import { UserResolver } from './users/user.resolver';
import { ServerInfoResolver } from './server-info/server-info.resolver';
import { CatchUpResolver } from './catch-up/catch-up.resolver';

let cached: Promise<GraphQLSchema> | null = null;

/**
 * The client API schema, built once per process from the resolvers. Its object types are
 * declared with `simpleResolvers: true`: nothing here guards a plain field (no middleware,
 * no @Authorized on a property), so graphql reads it directly instead of through
 * type-graphql's per-field wrapper (tests/schema.test.ts keeps it so).
 */
export function clientSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [UserResolver, GroupResolver, InviteResolver, MessageResolver, MessageAiResolver, GroupEventResolver, ConversationResolver, MemoryResolver, ServerInfoResolver, CatchUpResolver],
    authChecker,
    // Subscriptions use their own `subscribe` functions; type-graphql still wants a PubSub.
    pubSub: createPubSub(),
    validate: false,
  });
  return cached;
}

export async function printClientSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await clientSchema()));
}
