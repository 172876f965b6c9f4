/**
 * The staff endpoint's Apollo server: its own schema and context. Staff tokens only;
 * introspection, where configured on, needs a staff token too (the console bundles the
 * schema, so nobody else needs it).
 */
import type { IncomingMessage } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { DocumentNode, visit } from 'graphql';
import type { Services } from '../context';
import { unauthenticated } from '../errors';
import { startApollo } from '../graphql/apollo';
import type { AdminContext } from './admin-context';
import { adminSchema } from './admin-schema';
import { createTargetLoader } from './audit-targets';
import { clientAddress } from './client-address';
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
  const addressOf = clientAddress(config.trustProxy);
  const apollo = await startApollo<AdminContext>(schema, {
    config,
    log,
    label: 'internal error (admin)',
    beforeExecute: ({ document, contextValue }) => {
      if (!contextValue.staff && introspects(document)) throw unauthenticated('Staff sign-in required');
    },
  });

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
      return { staff, ip: addressOf(req), services, admin, loaders: { auditTarget: createTargetLoader(services.db) } };
    },
  };
}
