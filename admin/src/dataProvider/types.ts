/** Records as the staff API returns them (see schema/admin.graphql). */
export interface CaseMessage {
  id: string;
  seq: number;
  authorName: string;
  authorId: string | null;
  kind: string;
  body: string | null;
  deleted: boolean;
  hidden: boolean;
  createdAt: string;
  flagged: boolean;
}

/** One thing that raised or joined a case. */
export interface CaseSource {
  id: string;
  kind: string;
  reporterId: string | null;
  reporterUsername: string | null;
  reason: string | null;
  evidence: string | null;
  createdAt: string;
  settled: boolean;
  decision: string | null;
}

export interface SafetyCase {
  id: string;
  source: string;
  status: string;
  categories: string[];
  category: string | null;
  severity: string;
  teen: boolean;
  region: string | null;
  excerpt: string;
  groupId: string | null;
  groupTitle: string | null;
  messageId: string | null;
  authorId: string | null;
  author: { id: string; username?: string | null; displayName?: string | null; suspended?: boolean } | null;
  reportCount: number;
  reportReasons: string[];
  /** The message text as the case first recorded it (staff only); null once purged. */
  evidence: string | null;
  evidencePurgedAt: string | null;
  evidenceRetentionDays: number;
  sources?: CaseSource[];
  message: CaseMessage | null;
  context: CaseMessage[];
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export interface QuotaWindow {
  window: string;
  windowSeconds: number;
  limit: number;
  used: number;
  remaining: number;
  resetsAt: string | null;
  resetAt: string | null;
}

export interface ModelResponse {
  id: string;
  groupId: string | null;
  conversationId: string | null;
  chargedUserId: string;
  plan: string;
  tier: string;
  model: string;
  routeReason: string;
  status: string;
  statusReason: string | null;
  charged: boolean;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  createdAt: string;
}

export interface User {
  id: string;
  subject: string;
  username: string | null;
  displayName: string | null;
  region: string | null;
  plan: string;
  ageBand: string | null;
  parentalGroupChats: boolean;
  suspended: boolean;
  suspendedAt: string | null;
  suspendedReason: string | null;
  createdAt: string;
  quota: QuotaWindow[];
  recentResponses: ModelResponse[];
}

export interface PlanLimit {
  plan: string;
  window: string;
  windowSeconds: number;
  limit: number;
}

export interface RolloutRule {
  id: string;
  feature: string;
  region: string;
  plan: string;
  enabled: boolean;
  percentage: number;
  updatedAt: string;
  updatedBy: string;
}

export interface RolloutCell {
  feature: string;
  region: string;
  plan: string;
  enabled: boolean;
  percentage: number;
  ruleId: string | null;
  ruleRegion: string | null;
  rulePlan: string | null;
}

export interface RolloutGrid {
  features: string[];
  regions: string[];
  plans: string[];
  cells: RolloutCell[];
}

/** AI attempts by how they ended; `charged` is what the quotas counted. */
export interface AiAttempts {
  total: number;
  answered: number;
  failedUncharged: number;
  blockedCharged: number;
  blockedUncharged: number;
  inProgress: number;
  charged: number;
}

export interface Dashboard {
  openCases: number;
  openTeenCases: number;
  since: string;
  aiAttempts: AiAttempts;
  failuresByReason: Array<{ reason: string; count: number }>;
  responsesByPlanModel: Array<{ plan: string; model: string; count: number; answered: number; failed: number; blocked: number; inProgress: number }>;
  exhaustionsByPlan: Array<{ plan: string; count: number }>;
}

export interface AuditEntry {
  id: string;
  actorEmail: string;
  action: string;
  targetType: string;
  targetId: string | null;
  /** The target by name (@username, group title, feature/region/plan…), or what the entry remembers of a deleted one. */
  targetLabel: string;
  targetExists: boolean;
  reason: string | null;
  details: string | null;
  detailFields: Array<{ name: string; value: string }>;
  createdAt: string;
}

export type CaseDecision = 'DISMISS' | 'REMOVE_MESSAGE' | 'SUSPEND_AUTHOR';

export interface StaffSession {
  token: string;
  expiresAt: string;
  staff: { id: string; email: string; role: 'ADMIN' | 'MODERATOR' };
}
