import { Box, Chip, Paper, Typography } from '@mui/material';
import { useRecordContext } from 'react-admin';
import type { SafetyCase } from '../dataProvider';
import { formatDateTime } from '../common/format';

/**
 * The message text the case is about, as the case recorded it: still there when the author
 * or staff removed the message from the thread (members see only the tombstone), until the
 * retention period after the decision has passed.
 */
export function CaseEvidence() {
  const c = useRecordContext<SafetyCase>();
  if (!c || c.context === undefined) return null;
  const removed = !!c.message?.deleted;
  if (c.evidencePurgedAt) {
    return (
      <Typography variant="body2" color="text.secondary" data-testid="evidence-purged" sx={{ mb: 2 }}>
        Evidence purged on {formatDateTime(c.evidencePurgedAt)}, {c.evidenceRetentionDays} days after the decision.
      </Typography>
    );
  }
  if (c.evidence === null || c.evidence === undefined) return null;
  return (
    <Box sx={{ mb: 2 }} data-testid="case-evidence">
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', mb: 0.5 }}>
        <Typography variant="subtitle2">Evidence</Typography>
        {removed && <Chip size="small" color="warning" label="removed from the thread" data-testid="evidence-removed" />}
      </Box>
      <Paper variant="outlined" sx={{ p: 1.5, bgcolor: 'rgba(0, 0, 0, 0.02)' }}>
        <Typography variant="body2" sx={{ whiteSpace: 'pre-wrap' }} data-testid="evidence-text">
          {c.evidence}
        </Typography>
      </Paper>
      <Typography variant="caption" color="text.secondary">
        {removed ? 'Members see only the tombstone; this copy is for staff. ' : 'The text as the case recorded it. '}
        Kept until {c.evidenceRetentionDays} days after the decision.
      </Typography>
    </Box>
  );
}
