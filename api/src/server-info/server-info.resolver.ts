import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { ServerInfoType } from './server-info.type';

@Resolver(() => ServerInfoType)
export class ServerInfoResolver {
  /** Public: it says only how the service is configured, nothing about anyone. */
  @Query(() => ServerInfoType, { description: 'How this service is set up (no token needed)' })
  serverInfo(@Ctx() ctx: Context): ServerInfoType {
    const { config } = ctx.services;
    return { aiAvailable: config.ai.configured, aiName: config.aiName };
  }
}
