/**
 * One Apollo Server setup for both GraphQL endpoints (clients at /graphql, staff at
 * /admin/graphql): the same limits, CSRF prevention, masked errors and shutdown rules.
 */
import { ApolloServer, BaseContext, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import { formatError } from '../errors';
import { costBudget, costRate, Release } from './in-flight';
import { assertCost, assertNotSubscription, FieldCosts, hideSchemaDetails, limitRules, parseOptions } from './limits';
import { operationLabelPlugin } from '../ops/operation-label';

export interface ApolloOptions<TContext extends BaseContext> {
  config: Config;
  log: Logger;
  /** How internal errors of this endpoint are logged. */
  label: string;
  /** Checks (and may complete the context of) a resolved operation before it runs, after parsing and validation; throw to refuse it. */
  beforeExecute?: (request: GraphQLRequestContextDidResolveOperation<TContext>) => void | Promise<void>;
  /** What this schema's database fields cost (limits.ts); fields not listed cost 1 plus their children. */
  costs?: FieldCosts;
  /** Whose cost per second an operation draws on (in-flight.ts CostRate); null: nobody's. */
  costKey?: (context: TContext) => string | null;
}

export async function startApollo<TContext extends BaseContext>(schema: GraphQLSchema, { config, log, label, beforeExecute, costs = {}, costKey }: ApolloOptions<TContext>): Promise<ApolloServer<TContext>> {
  const check = { maxCost: config.graphql.maxCost, costs, introspection: config.graphql.introspection };
  const budget = costBudget(config);
  const rate = costRate(config);
  // Apollo hides suggestions in validation errors only; variables are coerced (and can be
  // misspelt) after validation.
  const hideDetails = (formatted: GraphQLFormattedError): GraphQLFormattedError =>
    config.graphql.introspection ? formatted : { ...formatted, message: hideSchemaDetails(formatted.message) };
  const apollo = new ApolloServer<TContext>({
    schema,
    // main.ts owns SIGINT/SIGTERM: Apollo must not stop itself while requests are drained.
    stopOnTerminationSignals: false,
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    parseOptions: parseOptions(config.graphql),
    validationRules: limitRules(config.graphql),
    // Without introspection no message may name what the schema holds ("Did you mean …?").
    hideSchemaDetailsFromClientErrors: !config.graphql.introspection,
    formatError: (formatted, error) => hideDetails(formatError(formatted, error, (err) => log.error({ err }, label))),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Nothing here sets cache hints, and the default plugin wraps every resolved field to
      // collect them: a third of a history page's CPU, for a header no response carries.
      ApolloServerPluginCacheControlDisabled(),
      operationLabelPlugin<TContext>(),
      {
        async requestDidStart() {
          let release: Release | undefined;
          return {
            async didResolveOperation(request) {
              // The operation first: the viewer step and the cost both need one to exist.
              const { operation, cost } = assertCost(schema, request.document, request.request.variables, request.request.operationName, check);
              assertNotSubscription(operation);
              await beforeExecute?.(request);
              // Runs once its user's cost per second and the process's operations leave room for it (in-flight.ts).
              const key = costKey?.(request.contextValue);
              if (key) await rate.take(key, cost);
              release = await budget.acquire(cost);
            },
            async willSendResponse() {
              release?.();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  return apollo;
}
