import { Datagrid, FunctionField, List, ReferenceField, SelectInput, TextField, TextInput } from 'react-admin';
import type { ModelResponse } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { DateTimeText, StatusChip } from '../common/format';

const filters = [
  <TextInput key="chargedUserId" source="chargedUserId" label="Charged user id" alwaysOn />,
  <TextInput key="model" source="model" alwaysOn />,
  <SelectInput key="plan" source="plan" choices={['free', 'go', 'plus', 'pro'].map((id) => ({ id, name: id }))} emptyText="any plan" />,
  <SelectInput key="status" source="status" choices={['STREAMING', 'COMPLETED', 'FAILED', 'BLOCKED'].map((id) => ({ id, name: id.toLowerCase() }))} emptyText="any status" />,
];

/** Every AI response with who paid for it; read-only. */
export function ModelResponseList() {
  return (
    <List title="AI responses" filters={filters} sort={{ field: 'createdAt', order: 'DESC' }} perPage={50} empty={false} exporter={false}>
      <Datagrid rowClick={false} bulkActionButtons={false} empty={<EmptyState title="No AI responses" hint="Nothing matches these filters." />}>
        <FunctionField label="When" source="createdAt" render={(r: ModelResponse) => <DateTimeText iso={r.createdAt} />} />
        <ReferenceField source="chargedUserId" reference="User" label="Charged user" link="show" sortable={false} />
        <TextField source="plan" sortable={false} />
        <FunctionField label="Model" sortable={false} render={(r: ModelResponse) => `${r.model} (${r.tier})`} />
        <TextField source="routeReason" label="Route reason" sortable={false} />
        <FunctionField label="Tokens (in / out)" sortable={false} render={(r: ModelResponse) => `${r.promptTokens ?? '—'} / ${r.completionTokens ?? '—'}`} />
        <FunctionField label="Latency" sortable={false} render={(r: ModelResponse) => (r.latencyMs != null ? `${r.latencyMs} ms` : '—')} />
        <FunctionField label="Status" sortable={false} render={(r: ModelResponse) => <StatusChip status={r.status} />} />
        <TextField source="statusReason" label="Why" sortable={false} emptyText="—" />
        <FunctionField label="Charged" sortable={false} render={(r: ModelResponse) => (r.charged ? 'yes' : 'no')} />
      </Datagrid>
    </List>
  );
}
