import { Datagrid, FunctionField, List, NullableBooleanInput, SearchInput, SelectInput, TextField, TextInput } from 'react-admin';
import { Chip } from '@mui/material';
import type { User } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { DateTimeText } from '../common/format';
import { PlanLimitsAside } from './PlanLimits';

export const PLANS = ['free', 'go', 'plus', 'pro'].map((id) => ({ id, name: id }));

const filters = [
  <SearchInput key="q" source="q" alwaysOn placeholder="Username, name or subject" />,
  <SelectInput key="plan" source="plan" choices={PLANS} alwaysOn emptyText="any plan" />,
  <TextInput key="region" source="region" label="Region" />,
  <NullableBooleanInput key="suspended" source="suspended" label="Suspended" />,
];

function remainingOf(u: User): string {
  if (!u.quota?.length) return '—';
  return u.quota.map((w) => `${w.remaining}/${w.limit}`).join(' · ');
}

export function UserList() {
  return (
    <List title="Users and quotas" filters={filters} sort={{ field: 'createdAt', order: 'DESC' }} perPage={25} aside={<PlanLimitsAside />} empty={false}>
      <Datagrid rowClick="show" bulkActionButtons={false} empty={<EmptyState title="No users found" hint="Try another search or filter." />}>
        <FunctionField label="User" source="username" render={(u: User) => (u.username ? `@${u.username}` : u.subject)} />
        <TextField source="displayName" label="Name" sortable={false} emptyText="—" />
        <TextField source="plan" />
        <TextField source="region" emptyText="—" />
        <TextField source="ageBand" label="Age" sortable={false} emptyText="unknown" />
        <FunctionField label="AI quota left" sortable={false} render={remainingOf} />
        <FunctionField label="Status" sortable={false} render={(u: User) => (u.suspended ? <Chip size="small" color="error" label="suspended" /> : <Chip size="small" variant="outlined" label="active" />)} />
        <FunctionField label="Joined" source="createdAt" render={(u: User) => <DateTimeText iso={u.createdAt} />} />
      </Datagrid>
    </List>
  );
}
