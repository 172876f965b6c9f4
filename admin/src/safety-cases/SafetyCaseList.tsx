import { BooleanInput, Datagrid, FunctionField, List, SelectInput, TextField, TextInput } from 'react-admin';
import { Box, Typography } from '@mui/material';
import type { SafetyCase } from '../dataProvider';
import { EmptyState } from '../common/Empty';
import { DateTimeText, SeverityChip, StatusChip, TeenChip } from '../common/format';

const STATUSES = ['OPEN', 'DISMISSED', 'MESSAGE_REMOVED', 'AUTHOR_SUSPENDED'].map((id) => ({ id, name: id.replace(/_/g, ' ').toLowerCase() }));
const SOURCES = [
  { id: 'AUTO_FLAG', name: 'automatic flag' },
  { id: 'USER_REPORT', name: 'user report' },
  { id: 'AI_BLOCKED', name: 'blocked AI output' },
  { id: 'AI_INPUT', name: 'AI input' },
];
const CATEGORIES = ['harassment', 'hate', 'self-harm', 'sexual', 'sexual/minors', 'violence', 'illicit', 'reported'].map((id) => ({ id, name: id }));

const filters = [
  <SelectInput key="status" source="status" choices={STATUSES} alwaysOn emptyText="any status" />,
  <SelectInput key="category" source="category" choices={CATEGORIES} alwaysOn emptyText="any category" />,
  <SelectInput key="source" source="source" choices={SOURCES} emptyText="any source" />,
  <TextInput key="region" source="region" label="Region" />,
  <BooleanInput key="teen" source="teen" label="Teen groups only" />,
  <TextInput key="q" source="q" label="Search excerpt" />,
];

/** The review queue: open cases first, teen groups at the top (sort "priority"). */
export function SafetyCaseList() {
  return (
    <List
      title="Safety review"
      filters={filters}
      filterDefaultValues={{ status: 'OPEN' }}
      sort={{ field: 'priority', order: 'ASC' }}
      perPage={25}
      empty={false}
    >
      <Datagrid rowClick="show" bulkActionButtons={false} empty={<EmptyState title="No cases here" hint="Nothing matches these filters: the queue is clear." />}>
        <FunctionField
          label="Case"
          sortBy="priority"
          render={(c: SafetyCase) => (
            <Box sx={{ display: 'flex', gap: 0.5, alignItems: 'center' }}>
              {c.teen && <TeenChip />}
              <SeverityChip severity={c.severity} />
            </Box>
          )}
        />
        <FunctionField
          label="Excerpt"
          sortable={false}
          render={(c: SafetyCase) => (
            <Typography variant="body2" sx={{ maxWidth: 420, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={c.excerpt}>
              {c.excerpt}
            </Typography>
          )}
        />
        <TextField source="category" sortable={false} emptyText="—" />
        <FunctionField label="Source" sortable={false} render={(c: SafetyCase) => SOURCES.find((s) => s.id === c.source)?.name ?? c.source} />
        <TextField source="region" sortable={false} emptyText="—" />
        <FunctionField label="Reports" sortable={false} render={(c: SafetyCase) => (c.reportCount > 0 ? c.reportCount : '—')} />
        <FunctionField label="Status" source="status" render={(c: SafetyCase) => <StatusChip status={c.status} />} />
        <FunctionField label="Opened" source="createdAt" render={(c: SafetyCase) => <DateTimeText iso={c.createdAt} />} />
      </Datagrid>
    </List>
  );
}
