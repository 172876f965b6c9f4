import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { currentUser } from '../auth/current-user';
import type { Context } from '../context';
import { MemoryType } from './memory.type';

@Resolver(() => MemoryType)
export class MemoryResolver {
  @Authorized()
  @Query(() => [MemoryType], { description: "The caller's saved facts, newest first (at most 200)" })
  memories(@Ctx() ctx: Context): Promise<MemoryType[]> {
    return ctx.services.memories.list(currentUser(ctx));
  }

  @Authorized()
  @Mutation(() => MemoryType, { description: 'Saves a fact (1 to 500 characters) for private conversations; the same text twice returns the existing fact' })
  addMemory(@Arg('text', () => String) text: string, @Ctx() ctx: Context): Promise<MemoryType> {
    return ctx.services.memories.add(currentUser(ctx), text);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Deletes one of the caller's facts; NOT_FOUND for anyone else's" })
  deleteMemory(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.memories.delete(currentUser(ctx), id);
  }
}
