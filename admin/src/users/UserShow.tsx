import { Box, Card, CardContent, Chip, Grid, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { Link, Show, useRecordContext } from 'react-admin';
import type { User } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { Detail } from '../common/Detail';
import { formatDateTime, formatRelative, formatWindow, StatusChip } from '../common/format';
import { PlanLimitsCard } from './PlanLimits';
import { UserActions } from './UserActions';

function UserTitle() {
  const u = useRecordContext<User>();
  return <span>User {u ? (u.username ? `@${u.username}` : u.subject) : ''}</span>;
}

function Profile() {
  const u = useRecordContext<User>();
  if (!u) return null;
  return (
    <Card variant="outlined">
      <CardContent sx={{ display: 'flex', flexWrap: 'wrap', gap: 3 }}>
        <Detail label="Name">
          <span>{u.displayName ?? '—'}</span>
        </Detail>
        <Detail label="Plan">
          <span data-testid="user-plan">{u.plan}</span>
        </Detail>
        <Detail label="Region">
          <span>{u.region ?? '—'}</span>
        </Detail>
        <Detail label="Age band">
          <span>{u.ageBand ?? 'unknown'}</span>
        </Detail>
        <Detail label="Group chats (parental)">
          <span>{u.parentalGroupChats ? 'allowed' : 'off'}</span>
        </Detail>
        <Detail label="Joined">
          <span>{formatDateTime(u.createdAt)}</span>
        </Detail>
        <Detail label="Suspension">
          {u.suspended ? (
            <span data-testid="user-suspension">
              <Chip size="small" color="error" label="suspended" /> {formatDateTime(u.suspendedAt)}
              {u.suspendedReason ? ` — ${u.suspendedReason}` : ''}
            </span>
          ) : (
            <span data-testid="user-suspension">not suspended</span>
          )}
        </Detail>
      </CardContent>
    </Card>
  );
}

function QuotaTable() {
  const u = useRecordContext<User>();
  if (!u) return null;
  return (
    <Card variant="outlined">
      <CardContent>
        <Typography variant="subtitle1" gutterBottom>
          AI quota
        </Typography>
        {(u.quota ?? []).length === 0 ? (
          <EmptyState title="No quota windows" />
        ) : (
          <Table size="small" data-testid="quota-table">
            <TableHead>
              <TableRow>
                <TableCell>Window</TableCell>
                <TableCell align="right">Limit</TableCell>
                <TableCell align="right">Used</TableCell>
                <TableCell align="right">Remaining</TableCell>
                <TableCell>Resets</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {(u.quota ?? []).map((w) => (
                <TableRow key={w.window} data-testid={`quota-${w.window}`}>
                  <TableCell>{formatWindow(w.windowSeconds)}</TableCell>
                  <TableCell align="right">{w.limit}</TableCell>
                  <TableCell align="right" data-testid="quota-used">
                    {w.used}
                  </TableCell>
                  <TableCell align="right" data-testid="quota-remaining">
                    <Typography variant="body2" color={w.remaining === 0 ? 'error' : 'inherit'} component="span">
                      {w.remaining}
                    </Typography>
                  </TableCell>
                  <TableCell>{w.resetsAt ? `${formatDateTime(w.resetsAt)} (${formatRelative(w.resetsAt)})` : w.used === 0 ? 'nothing used' : '—'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

/** What a failure or block reason means, for staff answering "why did the AI not answer me?". */
const REASONS: Record<string, string> = {
  PROVIDER_ERROR: 'the model provider returned an error',
  TIMEOUT: 'the reply took too long',
  CANCELLED: 'cancelled',
  PROVIDER_NOT_CONFIGURED: 'no model provider configured',
  EMPTY_RESPONSE: 'the model answered with no text',
  MODERATION_UNAVAILABLE: 'moderation could not run',
  INTERRUPTED: 'the process serving it stopped',
  QUOTA_EXCEEDED: 'quota used up',
  INPUT_BLOCKED: 'the message broke the safety rules',
  CONTENT_BLOCKED: 'the reply broke the safety rules',
  INTERNAL: 'an error of ours',
};

function failureText(reason: string | null) {
  if (!reason) return 'no reason recorded';
  const meaning = REASONS[reason];
  return (
    <span title={meaning}>
      <code>{reason}</code>
      {meaning ? ` — ${meaning}` : ''}
    </span>
  );
}

function RecentResponses() {
  const u = useRecordContext<User>();
  if (!u) return null;
  return (
    <Card variant="outlined">
      <CardContent>
        <Box sx={{ display: 'flex', alignItems: 'center' }}>
          <Typography variant="subtitle1" gutterBottom>
            Recent AI replies to this user (the payer)
          </Typography>
          <Box sx={{ ml: 'auto' }}>
            <Link to={{ pathname: '/ModelResponse', search: `filter=${encodeURIComponent(JSON.stringify({ chargedUserId: u.id }))}` }}>All responses</Link>
          </Box>
        </Box>
        {u.recentResponses === undefined ? (
          <Typography variant="body2">Loading…</Typography>
        ) : u.recentResponses.length === 0 ? (
          <EmptyState title="No AI responses yet" />
        ) : (
          <Table size="small" data-testid="responses-table">
            <TableHead>
              <TableRow>
                <TableCell>When</TableCell>
                <TableCell>Model</TableCell>
                <TableCell>Route reason</TableCell>
                <TableCell align="right">Tokens (in / out)</TableCell>
                <TableCell align="right">Latency</TableCell>
                <TableCell>Status</TableCell>
                <TableCell>Why</TableCell>
                <TableCell>Charged</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {(u.recentResponses ?? []).map((r) => (
                <TableRow key={r.id} data-testid={`response-${r.id}`} data-status={r.status}>
                  <TableCell>{formatDateTime(r.createdAt)}</TableCell>
                  <TableCell>
                    {r.model} <Typography component="span" variant="caption" color="text.secondary">({r.tier})</Typography>
                  </TableCell>
                  <TableCell>{r.routeReason}</TableCell>
                  <TableCell align="right">
                    {r.promptTokens ?? '—'} / {r.completionTokens ?? '—'}
                  </TableCell>
                  <TableCell align="right">{r.latencyMs != null ? `${r.latencyMs} ms` : '—'}</TableCell>
                  <TableCell>
                    <StatusChip status={r.status} />
                  </TableCell>
                  <TableCell data-testid="response-reason">{r.status === 'FAILED' || r.status === 'BLOCKED' ? failureText(r.statusReason) : '—'}</TableCell>
                  <TableCell>{r.charged ? 'yes' : 'no (free)'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

export function UserShow() {
  return (
    <Show title={<UserTitle />} actions={false} sx={{ '& .RaShow-card': { background: 'transparent', boxShadow: 'none' } }}>
      <Grid container spacing={2} sx={{ pt: 1 }}>
        <Grid size={12}>
          <UserActions />
        </Grid>
        <Grid size={12}>
          <Profile />
        </Grid>
        <Grid size={{ xs: 12, md: 8 }}>
          <QuotaTable />
        </Grid>
        <Grid size={{ xs: 12, md: 4 }}>
          <PlanLimitsCard title="Plan limits (all plans)" />
        </Grid>
        <Grid size={12}>
          <RecentResponses />
        </Grid>
      </Grid>
    </Show>
  );
}
