/** Typed helpers for the staff operations that are not plain CRUD. */
import { adminRequest } from './http';
import type { CaseDecision, Dashboard, PlanLimit, RolloutGrid, RolloutRule, SafetyCase, StaffSession, User } from './types';

const RULE_FIELDS = 'id feature region plan enabled percentage updatedAt updatedBy';

export async function signIn(email: string, password: string): Promise<StaffSession> {
  const data = await adminRequest<{ signIn: StaffSession }>(
    `mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { token expiresAt staff { id email role } } }`,
    { email, password },
  );
  return data.signIn;
}

export async function decideSafetyCase(id: string, decision: CaseDecision, reason: string): Promise<Pick<SafetyCase, 'id' | 'status'>> {
  const data = await adminRequest<{ decideSafetyCase: SafetyCase }>(
    `mutation Decide($id: ID!, $decision: CaseDecision!, $reason: String!) { decideSafetyCase(id: $id, decision: $decision, reason: $reason) { id status decidedAt decidedBy decisionReason } }`,
    { id, decision, reason },
  );
  return data.decideSafetyCase;
}

export async function resetQuota(userId: string, reason: string): Promise<Pick<User, 'id'>> {
  const data = await adminRequest<{ resetQuota: User }>(
    `mutation ResetQuota($userId: ID!, $reason: String!) { resetQuota(userId: $userId, reason: $reason) { id } }`,
    { userId, reason },
  );
  return data.resetQuota;
}

export async function suspendUser(id: string, reason: string): Promise<Pick<User, 'id' | 'suspended'>> {
  const data = await adminRequest<{ suspendUser: User }>(
    `mutation Suspend($id: ID!, $reason: String!) { suspendUser(id: $id, reason: $reason) { id suspended } }`,
    { id, reason },
  );
  return data.suspendUser;
}

export async function unsuspendUser(id: string, reason: string): Promise<Pick<User, 'id' | 'suspended'>> {
  const data = await adminRequest<{ unsuspendUser: User }>(
    `mutation Unsuspend($id: ID!, $reason: String!) { unsuspendUser(id: $id, reason: $reason) { id suspended } }`,
    { id, reason },
  );
  return data.unsuspendUser;
}

export async function rolloutGrid(regions?: string[]): Promise<RolloutGrid> {
  const data = await adminRequest<{ rolloutGrid: RolloutGrid }>(
    `query Grid($regions: [String!]) { rolloutGrid(regions: $regions) { features regions plans cells { feature region plan enabled percentage ruleId ruleRegion rulePlan } } }`,
    { regions: regions ?? null },
  );
  return data.rolloutGrid;
}

/** Turns a whole region (all plans) on or off through its (feature, region, '*') rule, which the API creates if missing. */
export async function setRegionRollout(feature: string, region: string, enabled: boolean, reason: string): Promise<RolloutRule> {
  const data = await adminRequest<{ setRegionRollout: RolloutRule }>(
    `mutation Switch($feature: String!, $region: String!, $enabled: Boolean!, $reason: String!) { setRegionRollout(feature: $feature, region: $region, enabled: $enabled, reason: $reason) { ${RULE_FIELDS} } }`,
    { feature, region, enabled, reason },
  );
  return data.setRegionRollout;
}

/** Deletes a rule with the reason the audit entry keeps; returns the rule as it was. */
export async function deleteRolloutRule(id: string, reason: string): Promise<RolloutRule> {
  const data = await adminRequest<{ deleteRolloutRule: RolloutRule }>(`mutation Delete($id: ID!, $reason: String!) { deleteRolloutRule(id: $id, reason: $reason) { ${RULE_FIELDS} } }`, { id, reason });
  return data.deleteRolloutRule;
}

export async function dashboard(): Promise<Dashboard> {
  const data = await adminRequest<{ dashboard: Dashboard }>(
    `query Dashboard { dashboard { openCases openTeenCases since
      aiAttempts { total answered failedUncharged blockedCharged blockedUncharged inProgress charged }
      failuresByReason { reason count }
      responsesByPlanModel { plan model count answered failed blocked inProgress } exhaustionsByPlan { plan count } } }`,
  );
  return data.dashboard;
}

export async function planLimits(): Promise<PlanLimit[]> {
  const data = await adminRequest<{ planLimits: PlanLimit[] }>(`query PlanLimits { planLimits { plan window windowSeconds limit } }`);
  return data.planLimits;
}
