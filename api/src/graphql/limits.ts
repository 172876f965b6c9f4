/** Query depth and cost limits, applied to HTTP and WebSocket operations alike. */
import depthLimit from 'graphql-depth-limit';
import { DocumentNode, GraphQLSchema, ValidationRule } from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { DomainError } from '../errors';

/** List fields cost their children times the page size asked for. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const n = typeof args.first === 'number' ? args.first : undefined;
  return n !== undefined ? 1 + childComplexity * Math.max(1, n) : undefined;
};

/** Depth is known from the document alone: a validation rule. */
export const depthRule = (maxDepth: number): ValidationRule => depthLimit(maxDepth) as ValidationRule;

/** Cost depends on variables (page sizes), so it is checked once they are known. */
export function assertCost(
  schema: GraphQLSchema,
  query: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost: number,
): void {
  const cost = getComplexity({
    schema,
    query,
    variables: variables ?? {},
    operationName: operationName ?? undefined,
    estimators: [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
  if (cost > maxCost) {
    throw new DomainError('BAD_USER_INPUT', `Query is too costly: ${cost} exceeds the limit of ${maxCost}`, { reason: 'QUERY_TOO_COSTLY', cost, maxCost });
  }
}
