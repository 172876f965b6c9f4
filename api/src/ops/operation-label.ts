/**
 * The `operation` label of the latency histogram. Its values come only from the schema:
 * the root field an operation selects, `multiple` when it selects several, `invalid` when
 * no operation was resolved (a parse or validation error, an unknown operationName). The
 * client's operationName and aliases never become label values, so the number of series
 * stays bounded by the schema whatever anonymous clients send.
 */
import type { ApolloServerPlugin, BaseContext, HTTPGraphQLRequest } from '@apollo/server';
import { FragmentDefinitionNode, GraphQLSchema, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';

export const INVALID_OPERATION = 'invalid';
export const MULTIPLE_FIELDS = 'multiple';

const META_FIELDS = new Set(['__typename', '__schema', '__type']);

/** The label of a resolved operation of a validated document. */
export function operationLabel(schema: GraphQLSchema, operation: OperationDefinitionNode | null | undefined, fragments: readonly FragmentDefinitionNode[]): string {
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return INVALID_OPERATION;
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const names = new Set<string>();
  const visited = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      else if (!visited.has(s.name.value)) {
        visited.add(s.name.value);
        const f = byName.get(s.name.value);
        if (f) collect(f.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  if (names.size > 1) return MULTIPLE_FIELDS;
  const [name] = names;
  // Validation has run, so the name is the schema's; checked again so that nothing else can pass.
  return name !== undefined && (Object.prototype.hasOwnProperty.call(root.getFields(), name) || META_FIELDS.has(name)) ? name : INVALID_OPERATION;
}

const labels = new WeakMap<HTTPGraphQLRequest, string>();

/** Records each resolved operation's label against the HTTP request Apollo was handed. */
export function operationLabelPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, schema, operation, document }) {
          if (!request.http) return;
          const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
          labels.set(request.http, operationLabel(schema, operation, fragments));
        },
      };
    },
  };
}

/** The label of the operation Apollo resolved for `request`, or `invalid` when it resolved none. */
export const operationLabelOf = (request: HTTPGraphQLRequest): string => labels.get(request) ?? INVALID_OPERATION;
