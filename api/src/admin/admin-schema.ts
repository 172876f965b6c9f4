/** The staff-only schema, built apart from the client schema (docs/product.md §8). */
import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { adminAuthChecker } from './admin-context';
import { AdminUserResolver } from './admin-user.resolver';
import { AuditEntryResolver } from './audit-entry.resolver';
import { AdminModelResponseResolver } from './model-response.resolver';
import { RolloutRuleResolver } from './rollout-rule.resolver';
import { SafetyCaseResolver } from './safety-case.resolver';
import { StaffResolver } from './staff.resolver';

let cached: Promise<GraphQLSchema> | null = null;

export function adminSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [StaffResolver, SafetyCaseResolver, AdminUserResolver, AdminModelResponseResolver, RolloutRuleResolver, AuditEntryResolver],
    authChecker: adminAuthChecker,
    validate: false,
  });
  return cached;
}

export async function printAdminSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await adminSchema()));
}
