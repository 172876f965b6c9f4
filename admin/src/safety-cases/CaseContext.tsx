import { Box, Chip, Paper, Typography } from '@mui/material';
import { useRecordContext } from 'react-admin';
import type { CaseMessage, SafetyCase } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { formatDateTime } from '../common/format';

function MessageRow({ m }: { m: CaseMessage }) {
  return (
    <Paper
      variant="outlined"
      data-testid={m.flagged ? 'flagged-message' : 'context-message'}
      sx={{
        p: 1.5,
        borderColor: m.flagged ? 'error.main' : 'divider',
        borderWidth: m.flagged ? 2 : 1,
        bgcolor: m.flagged ? 'rgba(211, 47, 47, 0.06)' : 'background.paper',
      }}
    >
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', mb: 0.5 }}>
        <Typography variant="subtitle2">{m.authorName}</Typography>
        {m.kind !== 'USER' && <Chip size="small" label={m.kind.toLowerCase()} />}
        {m.flagged && <Chip size="small" color="error" label="flagged" />}
        {m.deleted && <Chip size="small" label="removed" />}
        {m.hidden && !m.deleted && <Chip size="small" color="warning" label="hidden until reviewed" />}
        <Typography variant="caption" color="text.secondary" sx={{ ml: 'auto' }}>
          #{m.seq} · {formatDateTime(m.createdAt)}
        </Typography>
      </Box>
      <Typography variant="body2" sx={{ whiteSpace: 'pre-wrap', fontStyle: m.deleted ? 'italic' : 'normal', color: m.deleted ? 'text.secondary' : 'text.primary' }}>
        {m.deleted ? 'This message was removed.' : (m.body ?? '')}
      </Typography>
    </Paper>
  );
}

/** The flagged message among the messages around it, in order. */
export function CaseContext() {
  const record = useRecordContext<SafetyCase>();
  if (!record) return null;
  // A record taken from the list has no context yet: the full one is on its way.
  if (record.context === undefined) return <Typography variant="body2">Loading messages…</Typography>;
  const messages = record.context?.length ? record.context : record.message ? [{ ...record.message, flagged: true }] : [];
  if (messages.length === 0) return <EmptyState title="No messages" hint="The flagged content is no longer stored; see the excerpt." />;
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 1 }} data-testid="case-context">
      {[...messages].sort((a, b) => a.seq - b.seq).map((m) => (
        <MessageRow key={m.id} m={m} />
      ))}
    </Box>
  );
}
