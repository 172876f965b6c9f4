/** Query depth and cost limits, applied to HTTP and WebSocket operations alike. */
import depthLimit from 'graphql-depth-limit';
import { ArgumentNode, DirectiveNode, DocumentNode, GraphQLError, GraphQLSchema, KnownFragmentNamesRule, NoFragmentCyclesRule, validate, ValidationRule, visit } from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { DomainError } from '../errors';

/** List fields cost their children times the page size asked for. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const n = typeof args.first === 'number' ? args.first : undefined;
  return n !== undefined ? 1 + childComplexity * Math.max(1, n) : undefined;
};

/**
 * Depth is known from the document alone: a validation rule. graphql-depth-limit follows
 * fragment spreads blindly and crashes on unknown or cyclic ones, so it only looks at
 * documents whose fragments are sound; the standard rules report the others.
 */
export const depthRule = (maxDepth: number): ValidationRule => {
  const limit = depthLimit(maxDepth) as ValidationRule;
  return (context) => {
    const fragmentErrors = validate(context.getSchema(), context.getDocument(), [KnownFragmentNamesRule, NoFragmentCyclesRule]);
    return fragmentErrors.length > 0 ? {} : limit(context);
  };
};

/** Refused before execution: a client error over HTTP too (Apollo's default there is 500). */
const REFUSED = { http: { status: 400 } };

/**
 * The variables a document's cost can depend on: those in a page size (`first`) and in
 * a directive (`@include`/`@skip` leave fields out of the count). No other variable can
 * change what the estimators see.
 */
function costVariables(query: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (node: ArgumentNode | DirectiveNode) => void visit(node, { Variable: (v) => void names.add(v.name.value) });
  visit(query, {
    Argument: (arg) => void (arg.name.value === 'first' && collect(arg)),
    Directive: (directive) => {
      collect(directive);
      return false;
    },
  });
  return [...names].sort();
}

interface CostCache {
  variables: string[];
  costs: Map<string, number>;
}

/** Per parsed document (Apollo keeps one DocumentNode per query text): its costs by the values that matter. */
const costCache = new WeakMap<DocumentNode, CostCache>();
const MAX_COSTS_PER_DOCUMENT = 64;

/**
 * Cost depends on variables (page sizes), so it is checked once they are known. A
 * document asked again with the same operation and the same cost-relevant variables
 * (every sendMessage, say) reuses the cost computed the first time.
 */
export function assertCost(
  schema: GraphQLSchema,
  query: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
): void {
  let cache = costCache.get(query);
  if (!cache) costCache.set(query, (cache = { variables: costVariables(query), costs: new Map() }));
  const key = JSON.stringify([operationName ?? null, cache.variables.map((name) => variables?.[name] ?? null)]);
  let cost = cache.costs.get(key);
  if (cost === undefined) {
    cost = computeCost(schema, query, variables, operationName);
    if (cache.costs.size < MAX_COSTS_PER_DOCUMENT) cache.costs.set(key, cost);
  }
  if (cost > maxCost) {
    throw new DomainError('BAD_USER_INPUT', `Query is too costly: ${cost} exceeds the limit of ${maxCost}`, { reason: 'QUERY_TOO_COSTLY', cost, maxCost, ...REFUSED });
  }
}

function computeCost(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined | null): number {
  try {
    return getComplexity({
      schema,
      query,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    // Variables that do not fit their types: the request's fault, as execution would say.
    if (err instanceof GraphQLError) throw new DomainError('BAD_USER_INPUT', err.message, REFUSED);
    throw err;
  }
}
