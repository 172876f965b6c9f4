import { Field, ObjectType } from 'type-graphql';

@ObjectType('ServerInfo', { simpleResolvers: true, description: 'What this service offers, for clients to adapt their interface (e.g. grey out the AI button)' })
export class ServerInfoType {
  @Field(() => Boolean, { description: 'A model provider is configured: the AI can answer. Without one it stays silent, and a mention gets an AI_NOTICE (AI_NOT_CONFIGURED) for its author alone' })
  aiAvailable: boolean;

  @Field(() => String, { description: 'The name members mention the AI by, without the @' })
  aiName: string;
}
