import { Card, CardContent, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useDataProvider } from 'react-admin';
import type { AdminDataProvider } from '../dataProvider';
import { formatWindow } from '../common/format';
import { SimpleTable } from '../common/SimpleTable';

/** The AI quota of every plan, at a glance. */
export function PlanLimitsCard({ title = 'Plan limits' }: { title?: string }) {
  const dataProvider = useDataProvider<AdminDataProvider>();
  const { data, error, isPending } = useQuery({ queryKey: ['planLimits'], queryFn: () => dataProvider.planLimits() });
  return (
    <Card variant="outlined" data-testid="plan-limits">
      <CardContent>
        <Typography variant="subtitle1" gutterBottom>
          {title}
        </Typography>
        {isPending ? (
          <Typography variant="body2">Loading…</Typography>
        ) : error ? (
          <Typography variant="body2" color="error">
            {(error as Error).message}
          </Typography>
        ) : (
          <SimpleTable
            rows={data!}
            rowKey={(l) => `${l.plan}-${l.window}`}
            columns={[
              { label: 'Plan', value: (l) => l.plan },
              { label: 'Window', value: (l) => formatWindow(l.windowSeconds) },
              { label: 'AI responses', value: (l) => l.limit, align: 'right' },
            ]}
            testId="plan-limits-table"
            empty="No plans configured"
          />
        )}
      </CardContent>
    </Card>
  );
}

export function PlanLimitsAside() {
  return (
    <div style={{ width: 260, marginLeft: 16, marginTop: 64, flexShrink: 0 }}>
      <PlanLimitsCard />
    </div>
  );
}
