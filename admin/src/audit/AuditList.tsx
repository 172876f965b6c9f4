import { Datagrid, FunctionField, List, SelectInput, TextField, TextInput } from 'react-admin';
import { Box, Typography } from '@mui/material';
import type { ReactElement } from 'react';
import type { AuditEntry } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { DateTimeText } from '../common/format';
import { enumValues } from '../dataProvider/schema';

const ACTIONS = enumValues('AuditAction').map((id) => ({ id, name: id.replace(/_/g, ' ').toLowerCase() }));

const filters = [
  <TextInput key="actorEmail" source="actorEmail" label="Actor email" alwaysOn />,
  <SelectInput key="action" source="action" choices={ACTIONS} alwaysOn emptyText="any action" />,
  <TextInput key="targetType" source="targetType" label="Target type" />,
  <TextInput key="targetId" source="targetId" label="Target id" />,
];

/** The target by name, its type beneath; the full id on hover. A target deleted since is struck through. */
function Target({ entry }: { entry: AuditEntry }): ReactElement {
  return (
    <Box title={entry.targetId ?? undefined} data-testid="audit-target">
      <Typography variant="body2" component="span" sx={{ fontWeight: 500, textDecoration: entry.targetExists ? 'none' : 'line-through', wordBreak: 'break-word' }}>
        {entry.targetLabel}
      </Typography>
      <Typography variant="caption" color="text.secondary" sx={{ display: 'block' }}>
        {entry.targetType.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}
      </Typography>
    </Box>
  );
}

/** The particulars as "name: value" lines (a rule change lists what changed, old → new). */
function Details({ entry }: { entry: AuditEntry }): ReactElement {
  if (!entry.detailFields?.length) return <span>—</span>;
  return (
    <Box component="dl" sx={{ m: 0, display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 1, rowGap: 0.25 }} data-testid="audit-details">
      {entry.detailFields.map((f, i) => (
        <Box key={`${f.name}-${i}`} sx={{ display: 'contents' }}>
          <Typography component="dt" variant="caption" color="text.secondary">
            {f.name}
          </Typography>
          <Typography component="dd" variant="caption" sx={{ m: 0, wordBreak: 'break-word' }}>
            {f.value}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}

/** Every staff action, newest first; read-only. */
export function AuditList() {
  return (
    <List title="Audit log" filters={filters} sort={{ field: 'createdAt', order: 'DESC' }} perPage={50} empty={false} exporter={false}>
      <Datagrid rowClick={false} bulkActionButtons={false} empty={<EmptyState title="No audit entries" hint="Nothing matches these filters." />}>
        <FunctionField label="When" source="createdAt" render={(e: AuditEntry) => <DateTimeText iso={e.createdAt} />} />
        <TextField source="actorEmail" label="Actor" sortable={false} />
        <FunctionField label="Action" sortable={false} render={(e: AuditEntry) => e.action.replace(/_/g, ' ').toLowerCase()} />
        <FunctionField label="Target" sortable={false} render={(e: AuditEntry) => <Target entry={e} />} />
        <FunctionField label="Reason" sortable={false} render={(e: AuditEntry) => <span data-testid="audit-reason">{e.reason ?? '—'}</span>} />
        <FunctionField label="Details" sortable={false} render={(e: AuditEntry) => <Details entry={e} />} />
      </Datagrid>
    </List>
  );
}
