/** Query depth and cost limits, applied to HTTP and WebSocket operations alike. */
import depthLimit from 'graphql-depth-limit';
import { DocumentNode, GraphQLError, GraphQLSchema, KnownFragmentNamesRule, NoFragmentCyclesRule, validate, ValidationRule } from 'graphql';
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

/** Cost depends on variables (page sizes), so it is checked once they are known. */
export function assertCost(
  schema: GraphQLSchema,
  query: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
): void {
  let cost: number;
  try {
    cost = getComplexity({
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
  if (cost > maxCost) {
    throw new DomainError('BAD_USER_INPUT', `Query is too costly: ${cost} exceeds the limit of ${maxCost}`, { reason: 'QUERY_TOO_COSTLY', cost, maxCost, ...REFUSED });
  }
}
