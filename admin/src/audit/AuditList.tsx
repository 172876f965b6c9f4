import { Datagrid, FunctionField, List, SelectInput, TextField, TextInput } from 'react-admin';
import { Typography } from '@mui/material';
import type { ReactElement } from 'react';
import { EmptyState } from '../common/Empty';
import { DateTimeText } from '../common/format';
import { enumValues } from '../dataProvider/schema';

interface AuditEntry {
  id: string;
  actorEmail: string;
  action: string;
  targetType: string;
  targetId: string | null;
  reason: string | null;
  details: string | null;
  createdAt: string;
}

const ACTIONS = enumValues('AuditAction').map((id) => ({ id, name: id.replace(/_/g, ' ').toLowerCase() }));

const filters = [
  <TextInput key="actorEmail" source="actorEmail" label="Actor email" alwaysOn />,
  <SelectInput key="action" source="action" choices={ACTIONS} alwaysOn emptyText="any action" />,
  <TextInput key="targetType" source="targetType" label="Target type" />,
  <TextInput key="targetId" source="targetId" label="Target id" />,
];

function Details({ entry }: { entry: AuditEntry }): ReactElement {
  if (!entry.details) return <span>—</span>;
  let text = entry.details;
  try {
    text = JSON.stringify(JSON.parse(entry.details));
  } catch {
    /* not JSON: show as is */
  }
  return (
    <Typography variant="caption" component="code" sx={{ fontFamily: 'monospace', display: 'block', maxWidth: 360, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={text}>
      {text}
    </Typography>
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
        <FunctionField label="Target" sortable={false} render={(e: AuditEntry) => (
            <span title={e.targetId ?? undefined} style={{ whiteSpace: 'nowrap' }}>
              {e.targetType} {e.targetId ? (e.targetId.length > 12 ? `${e.targetId.slice(0, 8)}…` : e.targetId) : ''}
            </span>
          )} />
        <TextField source="reason" sortable={false} emptyText="—" />
        <FunctionField label="Details" sortable={false} render={(e: AuditEntry) => <Details entry={e} />} />
      </Datagrid>
    </List>
  );
}
