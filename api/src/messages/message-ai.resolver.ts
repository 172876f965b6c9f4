import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ModelResponseType } from '../ai/ai.types';
import type { Context } from '../context';
import { MessageKindEnum, MessageType } from './message.type';

@Resolver(() => MessageType)
export class MessageAiResolver {
  @FieldResolver(() => ModelResponseType, { nullable: true, description: 'For AI messages: model, route reason, tokens, latency, who was charged' })
  async modelResponse(@Root() message: MessageType, @Ctx() ctx: Context): Promise<ModelResponseType | null> {
    if (message.kind !== MessageKindEnum.AI) return null;
    return ctx.loaders.modelResponse.load(message.id);
  }
}
