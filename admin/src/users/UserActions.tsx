import { Box, Typography } from '@mui/material';
import BlockIcon from '@mui/icons-material/Block';
import RestartIcon from '@mui/icons-material/RestartAlt';
import UndoIcon from '@mui/icons-material/Undo';
import { useCanAccess, useDataProvider, useRecordContext } from 'react-admin';
import type { AdminDataProvider, User } from '../dataProvider';
import { ReasonButton } from '../common/ReasonButton';

/**
 * Reset quota / suspend / unsuspend from the user's page: admin only (hidden for
 * moderators, refused by the API anyway). Moderators suspend an author by deciding one of
 * the author's safety cases (safety-cases/DecisionButtons.tsx).
 */
export function UserActions() {
  const user = useRecordContext<User>();
  const dataProvider = useDataProvider<AdminDataProvider>();
  const reset = useCanAccess({ action: 'reset-quota', resource: 'User' });
  const suspend = useCanAccess({ action: 'suspend', resource: 'User' });
  if (!user) return null;
  if (reset.isPending || suspend.isPending) return null;
  if (!reset.canAccess && !suspend.canAccess) {
    return (
      <Typography variant="body2" color="text.secondary" data-testid="admin-only-hint">
        Resetting quotas and suspending or unsuspending from a user's page are for admins. To suspend an author, decide their safety case
        with “Suspend author”.
      </Typography>
    );
  }
  return (
    <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
      {reset.canAccess && (
        <ReasonButton
          label="Reset quota"
          icon={<RestartIcon />}
          testId="reset-quota"
          description={`Clears the AI usage of ${user.username ? '@' + user.username : 'this user'} in every window.`}
          successMessage="Quota reset"
          run={(reason) => dataProvider.resetQuota(user.id, reason)}
        />
      )}
      {suspend.canAccess &&
        (user.suspended ? (
          <ReasonButton label="Unsuspend" icon={<UndoIcon />} testId="unsuspend-user" description="The user may send messages and use the AI again." successMessage="User unsuspended" run={(reason) => dataProvider.unsuspendUser(user.id, reason)} />
        ) : (
          <ReasonButton label="Suspend" icon={<BlockIcon />} color="error" testId="suspend-user" description="The user can no longer send messages or use the AI." successMessage="User suspended" run={(reason) => dataProvider.suspendUser(user.id, reason)} />
        ))}
    </Box>
  );
}
