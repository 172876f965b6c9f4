import { FormEvent, useState } from 'react';
import { Box, Button, Card, CardContent, Chip, Switch, Table, TableBody, TableCell, TableHead, TableRow, TextField, Tooltip, Typography } from '@mui/material';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Loading, Title, useCanAccess, useDataProvider } from 'react-admin';
import type { AdminDataProvider, RolloutCell, RolloutGrid as Grid } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { ReasonDialog } from '../common/ReasonButton';

/** The reference rollout pilots these first. */
const PILOT_REGIONS = new Set(['JP', 'NZ', 'KR', 'TW']);

function cellLabel(cell: RolloutCell | undefined): string {
  if (!cell || !cell.enabled || cell.percentage === 0) return 'off';
  return cell.percentage >= 100 ? 'on' : `${cell.percentage}%`;
}

function ruleSource(cell: RolloutCell | undefined): string {
  if (!cell?.ruleId) return 'no rule matches: off';
  const region = cell.ruleRegion === '*' ? 'all regions' : cell.ruleRegion;
  const plan = cell.rulePlan === '*' ? 'all plans' : cell.rulePlan;
  return `from the rule for ${region} / ${plan}`;
}

function Cell({ cell, feature, region, plan }: { cell: RolloutCell | undefined; feature: string; region: string; plan: string }) {
  const label = cellLabel(cell);
  const color = label === 'on' ? 'success' : label === 'off' ? 'default' : 'warning';
  return (
    <TableCell align="center" data-testid={`cell-${feature}-${region}-${plan}`} data-state={label} aria-label={`${feature} in ${region} for ${plan}: ${label}`}>
      <Tooltip title={ruleSource(cell)}>
        <Chip size="small" label={label} color={color} variant={cell?.ruleRegion === region && cell?.rulePlan === plan ? 'filled' : 'outlined'} />
      </Tooltip>
    </TableCell>
  );
}

function FeatureGrid({ grid, feature, canToggle }: { grid: Grid; feature: string; canToggle: boolean }) {
  const dataProvider = useDataProvider<AdminDataProvider>();
  const queryClient = useQueryClient();
  // The switch only asks: nothing changes until the dialog is confirmed with a reason.
  const [asked, setAsked] = useState<{ region: string; enabled: boolean } | null>(null);
  const index = new Map(grid.cells.filter((c) => c.feature === feature).map((c) => [`${c.region}|${c.plan}`, c]));
  const plans = ['*', ...grid.plans.filter((p) => p !== '*')];
  const where = (region: string) => (region === '*' ? 'every region' : region);
  const refetch = async () => {
    await queryClient.invalidateQueries({ queryKey: ['rolloutGrid'] });
    await queryClient.invalidateQueries({ queryKey: ['RolloutRule'] });
  };

  return (
    <Card variant="outlined" sx={{ mb: 3 }} data-testid={`grid-${feature}`}>
      <CardContent>
        <Typography variant="h6" gutterBottom>
          {feature}
        </Typography>
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>Region</TableCell>
                {plans.map((p) => (
                  <TableCell key={p} align="center">
                    {p === '*' ? 'all plans' : p}
                  </TableCell>
                ))}
                <TableCell align="center">Region on/off</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {grid.regions.map((region) => {
                const whole = index.get(`${region}|*`);
                const on = !!whole && whole.enabled && whole.percentage > 0;
                return (
                  <TableRow key={region} hover>
                    <TableCell>
                      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center' }}>
                        <Typography variant="body2" sx={{ fontWeight: 600 }}>
                          {region === '*' ? 'all regions (*)' : region}
                        </Typography>
                        {PILOT_REGIONS.has(region) && <Chip size="small" color="info" variant="outlined" label="pilot" data-testid={`pilot-${region}`} />}
                      </Box>
                    </TableCell>
                    {plans.map((plan) => (
                      <Cell key={plan} cell={index.get(`${region}|${plan}`)} feature={feature} region={region} plan={plan} />
                    ))}
                    <TableCell align="center">
                      <Switch
                        checked={on}
                        disabled={!canToggle || asked !== null}
                        onChange={(_e, checked) => setAsked({ region, enabled: checked })}
                        slotProps={{ input: { 'aria-label': `${feature} in ${region}`, ...({ 'data-testid': `toggle-${feature}-${region}` } as object) } }}
                      />
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </Box>
        {asked && (
          <ReasonDialog
            open
            title={`Turn ${feature} ${asked.enabled ? 'on' : 'off'} in ${where(asked.region)}?`}
            description={
              <>
                This switches <b>{feature}</b> {asked.enabled ? 'on (100%)' : 'off'} for <b>every plan</b> in {where(asked.region)}, through its rule{' '}
                <code>
                  {feature}/{asked.region}/*
                </code>
                . Rules for a single plan of the region still win. It applies at once.
              </>
            }
            confirmLabel={asked.enabled ? 'Turn on' : 'Turn off'}
            color={asked.enabled ? 'primary' : 'warning'}
            testId="region-switch"
            successMessage={`${feature} ${asked.enabled ? 'enabled' : 'disabled'} in ${where(asked.region)}`}
            run={(reason) => dataProvider.setRegionRollout(feature, asked.region, asked.enabled, reason).finally(refetch)}
            onClose={() => setAsked(null)}
          />
        )}
      </CardContent>
    </Card>
  );
}

/** Effective state of every feature per region × plan, from the same evaluation the API gates with. */
export function RolloutGridPage() {
  const dataProvider = useDataProvider<AdminDataProvider>();
  const { canAccess: canToggle } = useCanAccess({ action: 'toggle', resource: 'RolloutRule' });
  const [extraRegions, setExtraRegions] = useState<string[]>([]);
  const [newRegion, setNewRegion] = useState('');
  const { data, error, isPending } = useQuery({
    queryKey: ['rolloutGrid', extraRegions],
    queryFn: async () => {
      // The API lists '*', regions named by rules and regions of users; pilots and asked-for regions are always shown.
      const grid = await dataProvider.rolloutGrid();
      const missing = [...PILOT_REGIONS, ...extraRegions].filter((r) => !grid.regions.includes(r));
      return missing.length ? dataProvider.rolloutGrid([...new Set([...grid.regions, ...missing])].sort()) : grid;
    },
  });
  const addRegion = (e: FormEvent) => {
    e.preventDefault();
    const r = newRegion.trim().toUpperCase();
    if (/^[A-Z]{2}$/.test(r) && !extraRegions.includes(r)) setExtraRegions([...extraRegions, r]);
    setNewRegion('');
  };
  return (
    <Box sx={{ mt: 2 }} data-testid="rollout-grid">
      <Title title="Rollout: region × plan" />
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        Each cell is the effective state for a user of that region and plan (the most specific rule wins). A filled chip comes from a rule for exactly that cell.
        {canToggle ? ' The switch turns a whole region on or off for all plans through its region rule, after you confirm with a reason.' : ' Only admins can change rules.'}
      </Typography>
      <Box component="form" onSubmit={addRegion} sx={{ display: 'flex', gap: 1, mb: 2, alignItems: 'center' }}>
        <TextField size="small" sx={{ width: 180 }} label="Show region" placeholder="e.g. FR" value={newRegion} onChange={(e) => setNewRegion(e.target.value)} slotProps={{ htmlInput: { maxLength: 2 } }} />
        <Button type="submit" size="small" disabled={!/^[A-Za-z]{2}$/.test(newRegion.trim())}>
          Add row
        </Button>
      </Box>
      {isPending ? (
        <Loading />
      ) : error ? (
        <Typography color="error">{(error as Error).message}</Typography>
      ) : data!.features.length === 0 ? (
        <EmptyState title="No features" />
      ) : (
        data!.features.map((f) => <FeatureGrid key={f} grid={data!} feature={f} canToggle={canToggle ?? false} />)
      )}
    </Box>
  );
}
