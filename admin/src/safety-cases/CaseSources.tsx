import { Box, Chip, Typography } from '@mui/material';
import { useRecordContext } from 'react-admin';
import type { CaseSource, SafetyCase } from '../dataProvider';
import { formatDateTime } from '../common/format';

const KIND_LABEL: Record<string, string> = {
  AUTO_FLAG: 'Automatic flag',
  USER_REPORT: 'User report',
  AI_BLOCKED: 'Blocked AI reply',
  AI_INPUT: 'Flagged private message',
};

function SourceItem({ s, evidence }: { s: CaseSource; evidence: string | null }) {
  return (
    <li data-testid="case-source" data-kind={s.kind}>
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography variant="body2" sx={{ fontWeight: 600 }}>
          {KIND_LABEL[s.kind] ?? s.kind}
        </Typography>
        {s.reporterUsername && <Typography variant="body2">by @{s.reporterUsername}</Typography>}
        {s.settled && <Chip size="small" variant="outlined" label={`settled · ${(s.decision ?? '').replace(/_/g, ' ').toLowerCase()}`} />}
      </Box>
      {s.reason && <Typography variant="body2">“{s.reason}”</Typography>}
      {/* A source that saw other text (the message was edited in between) shows it. */}
      {s.evidence !== null && s.evidence !== evidence && (
        <Typography variant="body2" color="text.secondary" sx={{ whiteSpace: 'pre-wrap' }}>
          Saw: {s.evidence}
        </Typography>
      )}
      <Typography variant="caption" color="text.secondary">
        {formatDateTime(s.createdAt)}
      </Typography>
    </li>
  );
}

/** What raised the case and what joined it (automatic flags, reports with their reasons), oldest first. */
export function CaseSources() {
  const c = useRecordContext<SafetyCase>();
  if (!c) return null;
  const sources = c.sources ?? [];
  return (
    <Box data-testid="report-reasons">
      <Typography variant="subtitle2">
        Sources ({sources.length}) · {c.reportCount} {c.reportCount === 1 ? 'report' : 'reports'}
      </Typography>
      <Box component="ul" sx={{ m: 0, pl: 2, display: 'flex', flexDirection: 'column', gap: 1 }} data-testid="case-sources">
        {sources.map((s) => (
          <SourceItem key={s.id} s={s} evidence={c.evidence} />
        ))}
      </Box>
    </Box>
  );
}
