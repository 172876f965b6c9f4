/**
 * The console's data provider: ra-data-graphql-simple over /admin/graphql for the CRUD
 * resources (SafetyCase, User, ModelResponse, RolloutRule, AuditEntry), plus the staff
 * operations that are not CRUD. Rollout changes carry a reason: create and update send the
 * form's `reason` field, a delete its `meta.reason`. The only module that knows the API's shape.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import buildGraphQLProvider from 'ra-data-graphql-simple';
import { DataProvider, HttpError } from 'react-admin';
import { ADMIN_GRAPHQL_URL, authorizedFetch, GraphQLErrorShape, toHttpError } from './http';
import * as operations from './operations';
import { adminIntrospection } from './schema';

export * from './types';
export { operations };

type SparseField = string | Record<string, string[]>;

const USER_SCALARS = ['id', 'subject', 'username', 'displayName', 'region', 'plan', 'ageBand', 'parentalGroupChats', 'suspended', 'suspendedAt', 'suspendedReason', 'createdAt'];
const RESPONSE_FIELDS = ['id', 'groupId', 'conversationId', 'chargedUserId', 'plan', 'tier', 'model', 'routeReason', 'status', 'statusReason', 'charged', 'promptTokens', 'completionTokens', 'latencyMs', 'createdAt'];
const CASE_SCALARS = ['id', 'source', 'status', 'categories', 'category', 'severity', 'teen', 'region', 'excerpt', 'groupId', 'groupTitle', 'messageId', 'authorId', 'reportCount', 'reportReasons', 'createdAt', 'decidedAt', 'decidedBy', 'decisionReason',
  'evidencePurgedAt', 'evidenceRetentionDays'];
const CASE_SOURCES = { sources: ['id', 'kind', 'reporterId', 'reporterUsername', 'reason', 'evidence', 'createdAt', 'settled', 'decision'] };
const CASE_AUTHOR = { author: ['id', 'username', 'displayName', 'suspended'] };
const AUDIT_FIELDS = ['id', 'actorId', 'actorEmail', 'action', 'targetType', 'targetId', 'targetLabel', 'targetExists', 'reason', 'details', 'createdAt', { detailFields: ['name', 'value'] }];

/** What each resource selects by default: lists stay light, show pages get the nested tables. */
const SELECTION: Record<string, { list?: SparseField[]; one?: SparseField[] }> = {
  User: {
    list: [...USER_SCALARS, 'quota'],
    one: [...USER_SCALARS, 'quota', { recentResponses: RESPONSE_FIELDS }],
  },
  SafetyCase: {
    list: [...CASE_SCALARS, CASE_AUTHOR],
    // The evidence (the text of a message that may be gone from the thread) only on the case's own page.
    one: [...CASE_SCALARS, 'evidence', CASE_AUTHOR, CASE_SOURCES, 'message', 'context'],
  },
  AuditEntry: { list: AUDIT_FIELDS, one: AUDIT_FIELDS },
};

function withSelection<P extends { meta?: any }>(resource: string, kind: 'list' | 'one', params: P): P {
  const sparseFields = SELECTION[resource]?.[kind];
  if (!sparseFields || params.meta?.sparseFields) return params;
  return { ...params, meta: { ...params.meta, sparseFields } };
}

/** ra-data-graphql reports GraphQL errors as HttpError(…, 200, apolloError): give them a real status and message. */
function normalizeError(error: unknown): never {
  if (error instanceof HttpError && error.status === 200) {
    const graphQLErrors = (error.body as { graphQLErrors?: GraphQLErrorShape[] } | undefined)?.graphQLErrors;
    if (graphQLErrors?.length) throw toHttpError(graphQLErrors);
  }
  throw error;
}

const client = new ApolloClient({
  link: new HttpLink({ uri: ADMIN_GRAPHQL_URL, fetch: authorizedFetch }),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: 'network-only' }, mutate: { fetchPolicy: 'no-cache' } },
});

const graphql = buildGraphQLProvider({
  client,
  introspection: { schema: adminIntrospection as any },
});

const guard = <T,>(p: Promise<T>): Promise<T> => p.catch(normalizeError);

export type AdminDataProvider = DataProvider & {
  decideSafetyCase: typeof operations.decideSafetyCase;
  resetQuota: typeof operations.resetQuota;
  suspendUser: typeof operations.suspendUser;
  unsuspendUser: typeof operations.unsuspendUser;
  rolloutGrid: typeof operations.rolloutGrid;
  setRegionRollout: typeof operations.setRegionRollout;
  dashboard: typeof operations.dashboard;
  planLimits: typeof operations.planLimits;
};

export const dataProvider: AdminDataProvider = {
  getList: (resource, params) => guard(graphql.getList(resource, withSelection(resource, 'list', params))),
  getOne: (resource, params) => guard(graphql.getOne(resource, withSelection(resource, 'one', params))),
  getMany: (resource, params) => guard(graphql.getMany(resource, withSelection(resource, 'list', params))),
  getManyReference: (resource, params) => guard(graphql.getManyReference(resource, withSelection(resource, 'list', params))),
  create: (resource, params) => guard(graphql.create(resource, params)),
  update: (resource, params) => guard(graphql.update(resource, params)),
  updateMany: (resource, params) => guard(graphql.updateMany(resource, params)),
  // A rule's delete carries the reason its audit entry keeps (params.meta.reason); the generic DELETE sends only the id.
  delete: (resource, params) =>
    resource === 'RolloutRule' ? operations.deleteRolloutRule(String(params.id), params.meta?.reason ?? '').then((data) => ({ data: data as any })) : guard(graphql.delete(resource, params)),
  deleteMany: (resource, params) => guard(graphql.deleteMany(resource, params)),
  decideSafetyCase: operations.decideSafetyCase,
  resetQuota: operations.resetQuota,
  suspendUser: operations.suspendUser,
  unsuspendUser: operations.unsuspendUser,
  rolloutGrid: operations.rolloutGrid,
  setRegionRollout: operations.setRegionRollout,
  dashboard: operations.dashboard,
  planLimits: operations.planLimits,
};
