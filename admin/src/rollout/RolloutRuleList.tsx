import { CreateButton, Datagrid, EditButton, FunctionField, List, TextField, TextInput, TopToolbar, useCanAccess, useDataProvider, useRecordContext } from 'react-admin';
import { Button, Chip } from '@mui/material';
import DeleteIcon from '@mui/icons-material/DeleteOutlined';
import GridIcon from '@mui/icons-material/GridOn';
import { Link as RouterLink } from 'react-router-dom';
import type { RolloutRule } from '../dataProvider';
import { ReasonButton } from '../common/ReasonButton';
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

/** Deleting a rule asks for the reason its audit entry keeps. */
function DeleteRuleButton() {
  const rule = useRecordContext<RolloutRule>();
  const dataProvider = useDataProvider();
  if (!rule) return null;
  return (
    <ReasonButton
      label="Delete"
      icon={<DeleteIcon />}
      color="error"
      testId={`delete-rule-${rule.feature}-${rule.region}-${rule.plan}`}
      description={`Deletes the rule ${rule.feature}/${rule.region}/${rule.plan}; users it covered fall back to the next most specific rule.`}
      successMessage="Rule deleted"
      run={(reason) => dataProvider.delete('RolloutRule', { id: rule.id, previousData: rule, meta: { reason } })}
    />
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
        {canDelete && <DeleteRuleButton />}
      </Datagrid>
    </List>
  );
}
