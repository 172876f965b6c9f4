/**
 * What one GraphQL document may ask for, applied to HTTP and WebSocket operations alike:
 * tokens (at parse time), then aliases, directives, root fields, depth and the size of
 * the document once its fragments are spread (validation rules), then a cost that counts
 * the database reads and rows it asks for (once variables are known).
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  OperationDefinitionNode,
  OperationTypeNode,
  parse,
  ParseOptions,
  SelectionSetNode,
  specifiedRules,
  validate,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { DomainError } from '../errors';

export interface DocumentLimits {
  maxTokens: number;
  maxAliases: number;
  maxDirectives: number;
  maxRootFields: number;
  maxDepth: number;
}

/** Refused before execution: a client error over HTTP too (Apollo's default there is 500). */
const REFUSED = { http: { status: 400 } };

/** Options of graphql-js's parser: past `maxTokens` it stops reading at once. */
export const parseOptions = (limits: DocumentLimits): ParseOptions => ({ maxTokens: limits.maxTokens });

/**
 * Without introspection nothing may reveal the schema, including graphql-js's "Did you
 * mean …?" suggestions of field, argument, type and enum value names (Apollo's
 * hideSchemaDetailsFromClientErrors does the same to validation errors over HTTP).
 */
export const hideSchemaDetails = (message: string): string => message.replace(/ ?Did you mean [^?]*\?/g, '');

/**
 * The shape of a document once every fragment spread is replaced by its fragment: how
 * many fields, how deep (introspection fields aside, counted as graphql-depth-limit did) and
 * how many root fields. Worked out once per fragment, so a document whose fragments each
 * spread the next one twice costs linear time here (the cost estimator and the executor
 * would walk it in full: 2^n).
 */
interface Shape {
  fields: number;
  depth: number;
  rootFields: number;
}

function shapeOf(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): Shape {
  const memo = new Map<string, Shape | null>();
  const selections = (set: SelectionSetNode): Shape => {
    const total: Shape = { fields: 0, depth: 0, rootFields: 0 };
    for (const s of set.selections) {
      let part: Shape;
      if (s.kind === Kind.FIELD) part = field(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) part = selections(s.selectionSet);
      else part = spread(s.name.value);
      total.fields += part.fields;
      total.depth = Math.max(total.depth, part.depth);
      total.rootFields += part.rootFields;
    }
    return total;
  };
  const field = (f: FieldNode): Shape => {
    const inner = f.selectionSet ? selections(f.selectionSet) : { fields: 0, depth: -1, rootFields: 0 };
    const introspection = f.name.value.startsWith('__');
    return { fields: 1 + inner.fields, depth: introspection ? 0 : inner.depth + 1, rootFields: f.name.value === '__typename' ? 0 : 1 };
  };
  const spread = (name: string): Shape => {
    const known = memo.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    // Unknown or cyclic (in progress): the standard rules report those.
    if (!fragment || known === null) return { fields: 0, depth: 0, rootFields: 0 };
    memo.set(name, null);
    const shape = selections(fragment.selectionSet);
    memo.set(name, shape);
    return shape;
  };
  // Depth as graphql-depth-limit counted it: `{ me }` is 0 deep, `{ me { id } }` 1.
  return selections(operation.selectionSet);
}

/**
 * Depth, root fields and spread size of each operation. A document may not grow past its
 * token limit by spreading fragments: written out without them it could not have more
 * fields than tokens.
 */
export const shapeRule =
  (limits: DocumentLimits): ValidationRule =>
  (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    return {
      OperationDefinition(operation) {
        const name = operation.name?.value ?? 'anonymous';
        const shape = shapeOf(operation, fragments);
        if (shape.depth > limits.maxDepth) context.reportError(new GraphQLError(`'${name}' exceeds maximum operation depth of ${limits.maxDepth}`, { nodes: operation }));
        if (shape.rootFields > limits.maxRootFields) context.reportError(new GraphQLError(`'${name}' has ${shape.rootFields} root fields; at most ${limits.maxRootFields} are allowed`, { nodes: operation }));
        if (shape.fields > limits.maxTokens) context.reportError(new GraphQLError(`'${name}' spreads its fragments to ${shape.fields} fields; at most ${limits.maxTokens} are allowed`, { nodes: operation }));
        return false;
      },
    };
  };

/** The rules every document passes besides graphql-js's own: Apollo adds these to its standard set. */
export function limitRules(limits: DocumentLimits): ValidationRule[] {
  const report = (ctx: unknown, err: GraphQLError) => (ctx as ValidationContext).reportError(err);
  const armor = { propagateOnRejection: false, onReject: [report], exposeLimits: true };
  return [
    shapeRule(limits),
    maxAliasesRule({ ...armor, n: limits.maxAliases }) as ValidationRule,
    maxDirectivesRule({ ...armor, n: limits.maxDirectives }) as ValidationRule,
  ];
}

export interface DocumentCheck {
  limits: DocumentLimits;
  introspection: boolean;
  maxCost: number;
  costs: FieldCosts;
}

/**
 * Parse and validation for operations that do not go through Apollo (graphql-ws): the
 * same limits and messages. Returns the document or the client's errors (BAD_USER_INPUT).
 */
export function parseAndValidate(schema: GraphQLSchema, query: string, check: DocumentCheck): DocumentNode | DomainError[] {
  let document: DocumentNode;
  try {
    document = parse(query, parseOptions(check.limits));
  } catch (err) {
    return [new DomainError('BAD_USER_INPUT', (err as Error).message)];
  }
  const rules = [...specifiedRules, ...limitRules(check.limits), ...(check.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const errors = validate(schema, document, rules);
  if (errors.length > 0) return errors.map((e) => new DomainError('BAD_USER_INPUT', check.introspection ? e.message : hideSchemaDetails(e.message)));
  return document;
}

/**
 * What a field costs beyond the 1 every field costs: `base` for a resolver that reads the
 * database, and its children times the rows it returns, from the page size asked for
 * (`page`, with the schema's default) or a known bound (`rows`). Fields not listed cost 1
 * plus their children.
 */
export interface FieldCost {
  base: number;
  page?: string;
  rows?: number;
}
export type FieldCosts = Readonly<Record<string, FieldCost>>;

/** Every mutation writes: a transaction of a few statements. */
const MUTATION = 10;

/**
 * The client API's costs (fields named Type.field; `Mutation.*` for every mutation), about
 * 5 a round trip to the database: a read costs as much as a handful of fields.
 */
export function clientFieldCosts(bounds: { maxGroupMembers: number }): FieldCosts {
  return {
    'Query.me': { base: 5 },
    'Me.quota': { base: 5 },
    // Membership check, the page with its reactions, mentions and authors, the page's edges.
    'Query.messages': { base: 15, page: 'first' },
    'Query.group': { base: 5 },
    'Query.groups': { base: 10, page: 'first' },
    'Query.invitePreview': { base: 10, rows: 5 },
    'Query.conversations': { base: 5, page: 'first' },
    'Query.conversation': { base: 5 },
    'Query.memories': { base: 5, rows: 200 },
    // Batched per request (DataLoader): one read for the whole list, but each group or message still adds its rows.
    'Group.members': { base: 1, rows: bounds.maxGroupMembers },
    'Group.owner': { base: 1 },
    'Group.myMembership': { base: 2 },
    // One read per membership asked for (no batching: a client reads its own, a page at most).
    'Membership.lastCatchUp': { base: 3 },
    'Conversation.messages': { base: 2, page: 'first' },
    'Mutation.*': { base: MUTATION },
    'Subscription.groupEvents': { base: 10 },
  };
}

const costEstimator =
  (costs: FieldCosts): ComplexityEstimator =>
  ({ type, field, args, childComplexity }) => {
    const cost = costs[`${type.name}.${field.name}`] ?? costs[`${type.name}.*`];
    const asked = cost?.page !== undefined ? args[cost.page] : undefined;
    const rows = typeof asked === 'number' ? Math.max(1, asked) : (cost?.rows ?? 1);
    return 1 + (cost?.base ?? 0) + rows * childComplexity;
  };

interface CostCache {
  variables: string[];
  costs: Map<string, number>;
}

/** Per parsed document (Apollo keeps one DocumentNode per query text): its costs by the values that matter. */
const costCache = new WeakMap<DocumentNode, CostCache>();
const MAX_COSTS_PER_DOCUMENT = 64;

/**
 * The variables a document's cost can depend on: those in a page size and in a directive
 * (`@include`/`@skip` leave fields out of the count). No other variable changes what the
 * estimator sees.
 */
function costVariables(query: DocumentNode, costs: FieldCosts): string[] {
  const pageArgs = new Set(Object.values(costs).flatMap((c) => (c.page ? [c.page] : [])));
  const names = new Set<string>();
  const walk = (node: unknown, collect: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => walk(n, collect));
    const n = node as { kind?: string; name?: { value: string } };
    if (collect && n.kind === Kind.VARIABLE) names.add(n.name!.value);
    const inDirective = n.kind === Kind.DIRECTIVE;
    const inPage = n.kind === Kind.ARGUMENT && pageArgs.has(n.name!.value);
    for (const [key, value] of Object.entries(node)) if (key !== 'loc') walk(value, collect || inDirective || inPage);
  };
  walk(query.definitions, false);
  return [...names].sort();
}

/**
 * The operation that will run, its variables coerced, and its cost within `maxCost`;
 * every failure is the client's (BAD_USER_INPUT, HTTP 400). A document asked again with
 * the same operation and the same cost-relevant variables (every sendMessage, say) reuses
 * the cost computed the first time. Returns the operation and its cost.
 */
export function assertCost(
  schema: GraphQLSchema,
  query: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | undefined | null,
  check: Pick<DocumentCheck, 'maxCost' | 'costs' | 'introspection'>,
): { operation: OperationDefinitionNode; cost: number } {
  const refuse = (message: string, extra: Record<string, unknown> = {}) =>
    new DomainError('BAD_USER_INPUT', check.introspection ? message : hideSchemaDetails(message), { ...extra, ...REFUSED });
  const operation = getOperationAST(query, operationName);
  if (!operation) throw refuse(operationName ? `Unknown operation named "${operationName}"` : 'Must provide operation name if query contains multiple operations');
  // Coerced first: the cache key below is then made of Int and Boolean values only, never of
  // whatever the client nested inside a variable.
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 5 });
  if (coerced.errors) throw refuse(coerced.errors[0].message);

  let cache = costCache.get(query);
  if (!cache) costCache.set(query, (cache = { variables: costVariables(query, check.costs), costs: new Map() }));
  const values = coerced.coerced;
  const key = JSON.stringify([operationName ?? null, cache.variables.map((name) => values[name] ?? null)]);
  let cost = cache.costs.get(key);
  if (cost === undefined) {
    try {
      cost = getComplexity({ schema, query, variables: variables ?? {}, operationName: operation.name?.value, estimators: [costEstimator(check.costs)] });
    } catch (err) {
      if (err instanceof GraphQLError) throw refuse(err.message);
      throw err;
    }
    if (cache.costs.size < MAX_COSTS_PER_DOCUMENT) cache.costs.set(key, cost);
  }
  if (cost > check.maxCost) {
    throw refuse(`Query is too costly: ${cost} exceeds the limit of ${check.maxCost}`, { reason: 'QUERY_TOO_COSTLY', cost, maxCost: check.maxCost });
  }
  return { operation, cost };
}

/** Subscriptions run over graphql-ws only: over HTTP one is the client's mistake, not a 500. */
export function assertNotSubscription(operation: OperationDefinitionNode): void {
  if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
    throw new DomainError('BAD_USER_INPUT', 'Subscriptions are served over graphql-ws (graphql-transport-ws) only', REFUSED);
  }
}
