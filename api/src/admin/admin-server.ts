/**
 * The staff endpoint's Apollo server: its own schema and context. Staff tokens only;
 * introspection, where configured on, needs a staff token too (the console bundles the
 * schema, so nobody else needs it).
 */
import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DocumentNode, visit } from 'graphql';
import type { Services } from '../context';
import { formatError, unauthenticated } from '../errors';
import { assertCost, depthRule } from '../graphql/limits';
import type { AdminContext } from './admin-context';
import { adminSchema } from './admin-schema';
import { createAdminServices } from './admin-services';

export interface AdminEndpoint {
  apollo: ApolloServer<AdminContext>;
  context(req: IncomingMessage): Promise<AdminContext>;
}

function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

export async function createAdminEndpoint(services: Services): Promise<AdminEndpoint> {
  const { config, log } = services;
  const schema = await adminSchema();
  const admin = createAdminServices(services);
  const apollo = new ApolloServer<AdminContext>({
    schema,
    // main.ts owns SIGINT/SIGTERM: Apollo must not stop itself while requests are drained.
    stopOnTerminationSignals: false,
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthRule(config.graphql.maxDepth)],
    formatError: (formatted, error) => formatError(formatted, error, (err) => log.error({ err }, 'internal error (admin)')),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ request, document, contextValue }) {
              if (!contextValue.staff && introspects(document)) throw unauthenticated('Staff sign-in required');
              assertCost(schema, document, request.variables, request.operationName, config.graphql.maxCost);
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  return {
    apollo,
    async context(req) {
      const header = req.headers.authorization;
      let staff = null;
      if (header) {
        const m = /^Bearer\s+(.+)$/i.exec(header);
        if (!m) throw unauthenticated('Authorization must be "Bearer <token>"');
        staff = await services.staff.authenticate(m[1]);
      }
      return { staff, ip: req.socket.remoteAddress ?? 'unknown', services, admin };
    },
  };
}
