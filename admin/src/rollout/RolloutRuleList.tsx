import { CreateButton, Datagrid, DeleteButton, EditButton, FunctionField, List, TextField, TextInput, TopToolbar, useCanAccess } from 'react-admin';
import { Button, Chip } from '@mui/material';
import GridIcon from '@mui/icons-material/GridOn';
import { Link as RouterLink } from 'react-router-dom';
import type { RolloutRule } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { DateTimeText } from '../common/format';

const filters = [<TextInput key="feature" source="feature" alwaysOn />, <TextInput key="region" source="region" alwaysOn />, <TextInput key="plan" source="plan" />];

function Actions() {
  return (
    <TopToolbar>
      <Button component={RouterLink} to="/rollout-grid" size="small" startIcon={<GridIcon />}>
        Region × plan grid
      </Button>
      <CreateButton />
    </TopToolbar>
  );
}

export function RolloutRuleList() {
  const { canAccess: canEdit } = useCanAccess({ action: 'edit', resource: 'RolloutRule' });
  const { canAccess: canDelete } = useCanAccess({ action: 'delete', resource: 'RolloutRule' });
  return (
    <List title="Rollout rules" filters={filters} sort={{ field: 'feature', order: 'ASC' }} perPage={50} actions={<Actions />} empty={false}>
      <Datagrid rowClick={false} bulkActionButtons={false} empty={<EmptyState title="No rollout rules" hint="Without rules every feature is off." />}>
        <TextField source="feature" />
        <FunctionField label="Region" source="region" render={(r: RolloutRule) => (r.region === '*' ? 'all regions' : r.region)} />
        <FunctionField label="Plan" source="plan" render={(r: RolloutRule) => (r.plan === '*' ? 'all plans' : r.plan)} />
        <FunctionField label="State" sortable={false} render={(r: RolloutRule) => (r.enabled ? <Chip size="small" color="success" label={r.percentage === 100 ? 'on' : `${r.percentage}%`} /> : <Chip size="small" label="off" />)} />
        <FunctionField label="Updated" source="updatedAt" render={(r: RolloutRule) => <DateTimeText iso={r.updatedAt} />} />
        <TextField source="updatedBy" label="By" sortable={false} />
        {canEdit && <EditButton />}
        {canDelete && <DeleteButton mutationMode="pessimistic" />}
      </Datagrid>
    </List>
  );
}
