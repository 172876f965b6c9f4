/**
 * One Apollo Server setup for both GraphQL endpoints (clients at /graphql, staff at
 * /admin/graphql): the same limits, CSRF prevention, masked errors and shutdown rules.
 */
import { ApolloServer, BaseContext, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import { formatError } from '../errors';
import { assertCost, depthRule } from './limits';
import { operationLabelPlugin } from '../ops/operation-label';

export interface ApolloOptions<TContext extends BaseContext> {
  config: Config;
  log: Logger;
  /** How internal errors of this endpoint are logged. */
  label: string;
  /** Checks (and may complete the context of) a resolved operation before it runs, after parsing and validation; throw to refuse it. */
  beforeExecute?: (request: GraphQLRequestContextDidResolveOperation<TContext>) => void | Promise<void>;
}

export async function startApollo<TContext extends BaseContext>(schema: GraphQLSchema, { config, log, label, beforeExecute }: ApolloOptions<TContext>): Promise<ApolloServer<TContext>> {
  const apollo = new ApolloServer<TContext>({
    schema,
    // main.ts owns SIGINT/SIGTERM: Apollo must not stop itself while requests are drained.
    stopOnTerminationSignals: false,
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthRule(config.graphql.maxDepth)],
    formatError: (formatted, error) => formatError(formatted, error, (err) => log.error({ err }, label)),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      operationLabelPlugin<TContext>(),
      {
        async requestDidStart() {
          return {
            async didResolveOperation(request) {
              await beforeExecute?.(request);
              assertCost(schema, request.document, request.request.variables, request.request.operationName, config.graphql.maxCost);
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  return apollo;
}
