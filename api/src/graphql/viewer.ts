/**
 * Who is asking, for a client API operation over HTTP. The token was verified with the
 * context; the user row (upserted from its claims, docs/product.md §1) is read here, once the
 * operation is known, before anything runs. A mutation made only of sendMessage fields is
 * the exception: its statement finds the author by the same claims itself
 * (messages/send-statement.ts), which spares the hottest request a round trip.
 */
import { DocumentNode, getOperationAST, Kind, OperationTypeNode } from 'graphql';
import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import type { Context } from '../context';
import type { UserEntity } from '../users/user.entity';
import { createLoaders } from '../loaders';

const SELF_AUTHENTICATING = new Set(['sendMessage']);

const selfAuthenticating = new WeakMap<DocumentNode, Map<string, boolean>>();

/** Whether the operation's root fields all find their own author (memoized per parsed document). */
export function findsOwnAuthor(document: DocumentNode, operationName: string | null | undefined): boolean {
  let byName = selfAuthenticating.get(document);
  if (!byName) selfAuthenticating.set(document, (byName = new Map()));
  const key = operationName ?? '';
  let answer = byName.get(key);
  if (answer === undefined) {
    const op = getOperationAST(document, operationName);
    answer =
      op?.operation === OperationTypeNode.MUTATION &&
      op.selectionSet.selections.length > 0 &&
      op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && SELF_AUTHENTICATING.has(s.name.value) && !s.directives?.length);
    byName.set(key, answer);
  }
  return answer;
}

/** Apollo's didResolveOperation step for the client API: reads the user unless the operation does. */
export async function resolveViewer({ contextValue: ctx, document, request }: GraphQLRequestContextDidResolveOperation<Context>): Promise<void> {
  if (!ctx.identity || ctx.user || findsOwnAuthor(document, request.operationName)) return;
  setViewer(ctx, await ctx.services.users.upsertFromIdentity(ctx.identity));
}

/** The request's user, once known: what the remaining resolvers see, with loaders for them. */
export function setViewer(ctx: Context, user: UserEntity): void {
  ctx.user = user;
  ctx.loaders = createLoaders(ctx.services.db, user.id);
}
