/** The staff API's services, built once per process over the shared ones. */
import type { Services } from '../context';
import { AuditLogService } from './audit-log.service';
import { CaseReviewService } from './case-review.service';
import { RolloutAdminService } from './rollout-admin.service';
import { UserAdminService } from './user-admin.service';

export interface AdminServices {
  cases: CaseReviewService;
  users: UserAdminService;
  rollout: RolloutAdminService;
  audit: AuditLogService;
}

export function createAdminServices(s: Services): AdminServices {
  return {
    cases: new CaseReviewService(s.db, s.config, s.messages, s.publisher, s.bus),
    users: new UserAdminService(s.db, s.config, s.quota, s.bus),
    rollout: new RolloutAdminService(s.db, s.rollout),
    audit: new AuditLogService(s.db),
  };
}
