import { Box, Card, CardContent, Chip, Divider, Grid, Typography } from '@mui/material';
import { Link, Show, useRecordContext } from 'react-admin';
import type { SafetyCase } from '../dataProvider';
import { Detail } from '../common/Detail';
import { formatDateTime, SeverityChip, StatusChip, TeenChip } from '../common/format';
import { CaseContext } from './CaseContext';
import { CaseEvidence } from './CaseEvidence';
import { CaseSources } from './CaseSources';
import { DecisionButtons } from './DecisionButtons';

function CaseTitle() {
  const record = useRecordContext<SafetyCase>();
  return <span>Safety case {record ? `· ${record.groupTitle ?? 'private conversation'}` : ''}</span>;
}

function CaseDetails() {
  const c = useRecordContext<SafetyCase>();
  if (!c) return null;
  return (
    <Grid container spacing={2}>
      <Grid size={{ xs: 12, md: 8 }}>
        <Card variant="outlined">
          <CardContent>
            <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', mb: 2, flexWrap: 'wrap' }}>
              {c.teen && <TeenChip />}
              <SeverityChip severity={c.severity} />
              <StatusChip status={c.status} />
              {(c.categories ?? []).map((cat) => (
                <Chip key={cat} size="small" variant="outlined" label={cat} />
              ))}
            </Box>
            <Typography variant="h6" gutterBottom>
              {c.groupTitle ?? 'Private conversation'}
            </Typography>
            <CaseEvidence />
            <Typography variant="body2" color="text.secondary" gutterBottom>
              The flagged message with the messages around it, as members see them now
            </Typography>
            <CaseContext />
          </CardContent>
        </Card>
      </Grid>
      <Grid size={{ xs: 12, md: 4 }}>
        <Card variant="outlined" sx={{ mb: 2 }}>
          <CardContent>
            <Typography variant="subtitle1" gutterBottom>
              Decision
            </Typography>
            <DecisionButtons />
          </CardContent>
        </Card>
        <Card variant="outlined">
          <CardContent sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}>
            <Detail label="Opened by">
              <span>{c.source.replace(/_/g, ' ').toLowerCase()}</span>
            </Detail>
            <Detail label="Author">
              {c.author ? (
                <Link to={`/User/${c.author.id}/show`}>
                  {c.author.displayName ?? c.author.username ?? c.author.id}
                  {c.author.username ? ` (@${c.author.username})` : ''}
                  {c.author.suspended ? ' · suspended' : ''}
                </Link>
              ) : (
                <span>—</span>
              )}
            </Detail>
            <Detail label="Region">
              <span>{c.region ?? '—'}</span>
            </Detail>
            <Detail label="Opened">
              <span>{formatDateTime(c.createdAt)}</span>
            </Detail>
            <Divider />
            <CaseSources />
          </CardContent>
        </Card>
      </Grid>
    </Grid>
  );
}

export function SafetyCaseShow() {
  return (
    <Show title={<CaseTitle />} actions={false} sx={{ '& .RaShow-card': { background: 'transparent', boxShadow: 'none' } }}>
      <Box sx={{ pt: 1 }}>
        <CaseDetails />
      </Box>
    </Show>
  );
}
