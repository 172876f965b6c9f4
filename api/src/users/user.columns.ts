/** A user row as UserEntity, for raw SQL. */
export const USER_COLUMNS = `id, subject, region, plan, age_band AS "ageBand", parental_group_chats AS "parentalGroupChats",
  display_name AS "displayName", username, photo_url AS "photoUrl", suspended_at AS "suspendedAt",
  suspended_reason AS "suspendedReason", created_at AS "createdAt", updated_at AS "updatedAt"`;
