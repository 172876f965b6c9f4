import { Box, Card, CardContent, Grid, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { Link, Loading, Title, useDataProvider } from 'react-admin';
import type { AdminDataProvider, Dashboard as DashboardData } from '../dataProvider';
import { formatDateTime } from '../common/format';
import { SimpleTable } from '../common/SimpleTable';
import { PlanLimitsCard } from '../users/PlanLimits';

function Stat({ label, value, to, testId }: { label: string; value: number; to: string; testId: string }) {
  return (
    <Card variant="outlined" sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="overline" color="text.secondary">
          {label}
        </Typography>
        <Typography variant="h3" data-testid={testId}>
          {value}
        </Typography>
        <Link to={to}>Open the queue</Link>
      </CardContent>
    </Card>
  );
}

function Count({ label, value, hint, testId, color }: { label: string; value: number; hint: string; testId: string; color?: string }) {
  return (
    <Box>
      <Typography variant="overline" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="h4" data-testid={testId} color={color}>
        {value}
      </Typography>
      <Typography variant="caption" color="text.secondary">
        {hint}
      </Typography>
    </Box>
  );
}

/** Answered replies apart from failed ones (free) and blocked ones, as the quota charges them (docs/product.md §4). */
function AiAttempts({ d }: { d: DashboardData }) {
  const a = d.aiAttempts;
  const blocked = a.blockedCharged + a.blockedUncharged;
  return (
    <Card variant="outlined" sx={{ height: '100%' }} data-testid="ai-attempts">
      <CardContent>
        <Typography variant="subtitle1">AI attempts, last 24 h</Typography>
        <Typography variant="caption" color="text.secondary">
          since {formatDateTime(d.since)} · {a.total} in all · {a.charged} charged to quotas
        </Typography>
        <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 4, mt: 1 }}>
          <Count label="Answered" value={a.answered} hint="completed, charged" testId="attempts-answered" />
          <Count label="Failed" value={a.failedUncharged} hint="not charged" testId="attempts-failed" color={a.failedUncharged ? 'error' : undefined} />
          <Count label="Blocked" value={blocked} hint={`${a.blockedCharged} charged, ${a.blockedUncharged} free`} testId="attempts-blocked" />
          {a.inProgress > 0 && <Count label="In progress" value={a.inProgress} hint="unit reserved" testId="attempts-in-progress" />}
        </Box>
        {d.failuresByReason.length > 0 && (
          <Box sx={{ mt: 2 }}>
            <Typography variant="body2" color="text.secondary">
              Failures by reason
            </Typography>
            <SimpleTable
              rows={d.failuresByReason}
              rowKey={(r) => r.reason}
              columns={[
                { label: 'Reason', value: (r) => r.reason },
                { label: 'Failed', value: (r) => r.count, align: 'right' },
              ]}
              testId="failures-by-reason"
              empty="No failures"
            />
          </Box>
        )}
      </CardContent>
    </Card>
  );
}

function ResponsesByPlanModel({ d }: { d: DashboardData }) {
  return (
    <Card variant="outlined" sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="subtitle1">AI attempts by plan and model, last 24 h</Typography>
        <Typography variant="caption" color="text.secondary">
          since {formatDateTime(d.since)}
        </Typography>
        <SimpleTable
          rows={d.responsesByPlanModel}
          rowKey={(r) => `${r.plan}-${r.model}`}
          columns={[
            { label: 'Plan', value: (r) => r.plan },
            { label: 'Model', value: (r) => r.model },
            { label: 'Answered', value: (r) => r.answered, align: 'right' },
            { label: 'Failed (free)', value: (r) => r.failed, align: 'right' },
            { label: 'Blocked', value: (r) => r.blocked, align: 'right' },
            { label: 'All', value: (r) => r.count, align: 'right' },
          ]}
          testId="responses-by-plan-model"
          empty="No AI responses in the last 24 h"
        />
      </CardContent>
    </Card>
  );
}

function Exhaustions({ d }: { d: DashboardData }) {
  return (
    <Card variant="outlined" sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="subtitle1">Quota exhaustions, last 24 h</Typography>
        <SimpleTable
          rows={d.exhaustionsByPlan}
          rowKey={(r) => r.plan}
          columns={[
            { label: 'Plan', value: (r) => r.plan },
            { label: 'Exhaustions', value: (r) => r.count, align: 'right' },
          ]}
          testId="exhaustions-by-plan"
          empty="Nobody ran out"
        />
      </CardContent>
    </Card>
  );
}

const queueLink = (filter: Record<string, unknown>) => `/SafetyCase?filter=${encodeURIComponent(JSON.stringify(filter))}`;

export function Dashboard() {
  const dataProvider = useDataProvider<AdminDataProvider>();
  const { data, error, isPending } = useQuery({ queryKey: ['dashboard'], queryFn: () => dataProvider.dashboard() });
  return (
    <Box sx={{ mt: 2 }} data-testid="dashboard">
      <Title title="Roundtable staff console" />
      {isPending ? (
        <Loading />
      ) : error ? (
        <Typography color="error">{(error as Error).message}</Typography>
      ) : (
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            <Stat label="Open safety cases" value={data!.openCases} to={queueLink({ status: 'OPEN' })} testId="open-cases" />
          </Grid>
          <Grid size={{ xs: 12, sm: 6, md: 3 }}>
            <Stat label="Open cases in teen groups" value={data!.openTeenCases} to={queueLink({ status: 'OPEN', teen: true })} testId="open-teen-cases" />
          </Grid>
          <Grid size={{ xs: 12, md: 6 }}>
            <PlanLimitsCard />
          </Grid>
          <Grid size={12}>
            <AiAttempts d={data!} />
          </Grid>
          <Grid size={{ xs: 12, md: 7 }}>
            <ResponsesByPlanModel d={data!} />
          </Grid>
          <Grid size={{ xs: 12, md: 5 }}>
            <Exhaustions d={data!} />
          </Grid>
        </Grid>
      )}
    </Box>
  );
}
