import { Box, Typography } from '@mui/material';
import InboxIcon from '@mui/icons-material/Inbox';

/** A quiet empty state for lists and tables. */
export function EmptyState({ title, hint }: { title: string; hint?: string }) {
  return (
    <Box sx={{ textAlign: 'center', py: 6, px: 2, color: 'text.secondary', width: '100%' }} data-testid="empty-state">
      <InboxIcon sx={{ fontSize: 48, opacity: 0.5 }} />
      <Typography variant="h6">{title}</Typography>
      {hint && <Typography variant="body2">{hint}</Typography>}
    </Box>
  );
}
