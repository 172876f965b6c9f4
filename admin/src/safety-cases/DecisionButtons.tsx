import { Box, Typography } from '@mui/material';
import BlockIcon from '@mui/icons-material/Block';
import DeleteIcon from '@mui/icons-material/DeleteOutlineOutlined';
import DoneIcon from '@mui/icons-material/Done';
import { useDataProvider, useRecordContext } from 'react-admin';
import type { AdminDataProvider, SafetyCase } from '../dataProvider';
import { ReasonButton } from '../common/ReasonButton';
import { formatDateTime, StatusChip } from '../common/format';

/**
 * Dismiss / remove the message / suspend the author; each asks for a reason. Deciding a
 * case, suspending its author included, is a moderator's job as much as an admin's.
 */
export function DecisionButtons() {
  const record = useRecordContext<SafetyCase>();
  const dataProvider = useDataProvider<AdminDataProvider>();
  if (!record) return null;
  if (record.status !== 'OPEN') {
    return (
      <Box data-testid="case-decision">
        <Typography variant="subtitle2" gutterBottom>
          Decided <StatusChip status={record.status} />
        </Typography>
        <Typography variant="body2" color="text.secondary">
          {formatDateTime(record.decidedAt)} by {record.decidedBy ?? 'unknown'}
        </Typography>
        {record.decisionReason && <Typography variant="body2">“{record.decisionReason}”</Typography>}
      </Box>
    );
  }
  const decide = (decision: 'DISMISS' | 'REMOVE_MESSAGE' | 'SUSPEND_AUTHOR') => (reason: string) => dataProvider.decideSafetyCase(record.id, decision, reason);
  return (
    <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} data-testid="case-decision">
      <ReasonButton label="Dismiss" icon={<DoneIcon />} testId="decide-dismiss" description="Nothing to act on: the case is closed and the message stays." successMessage="Case dismissed" run={decide('DISMISS')} />
      <ReasonButton
        label="Remove message"
        icon={<DeleteIcon />}
        color="warning"
        testId="decide-remove"
        disabled={!record.messageId || record.message?.deleted}
        description="The message becomes a tombstone for every member of the group, live."
        successMessage="Message removed"
        run={decide('REMOVE_MESSAGE')}
      />
      <ReasonButton
        label="Suspend author"
        icon={<BlockIcon />}
        color="error"
        testId="decide-suspend"
        disabled={!record.authorId}
        description="The author can no longer send messages or use the AI until unsuspended."
        successMessage="Author suspended"
        run={decide('SUSPEND_AUTHOR')}
      />
    </Box>
  );
}
