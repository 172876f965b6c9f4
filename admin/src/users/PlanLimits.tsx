import { Card, CardContent, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useDataProvider } from 'react-admin';
import type { AdminDataProvider } from '../dataProvider';
import { formatWindow } from '../common/format';

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
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>Plan</TableCell>
                <TableCell>Window</TableCell>
                <TableCell align="right">AI responses</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {data!.map((l) => (
                <TableRow key={`${l.plan}-${l.window}`}>
                  <TableCell>{l.plan}</TableCell>
                  <TableCell>{formatWindow(l.windowSeconds)}</TableCell>
                  <TableCell align="right">{l.limit}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
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
