import { BooleanInput, Create, Edit, maxLength, maxValue, minValue, NumberInput, required, SelectInput, SimpleForm, TextInput } from 'react-admin';

export const FEATURES = ['group_chats', 'group_chats_ai'].map((id) => ({ id, name: id }));

const regionFormat = (v: string) => v.trim().toUpperCase();

/** Blank is no reason: the API refuses it too. */
const notBlank = (v: string | undefined) => (v && v.trim() ? undefined : 'A reason is required');

function RuleFields() {
  return (
    <>
      <SelectInput source="feature" choices={FEATURES} validate={required()} />
      <TextInput source="region" validate={required()} helperText="'*' for every region, else a country code such as JP" parse={regionFormat} defaultValue="*" />
      <SelectInput
        source="plan"
        validate={required()}
        defaultValue="*"
        choices={[{ id: '*', name: 'all plans' }, ...['free', 'go', 'plus', 'pro'].map((id) => ({ id, name: id }))]}
      />
      <BooleanInput source="enabled" defaultValue={true} />
      <NumberInput source="percentage" validate={[required(), minValue(0), maxValue(100)]} defaultValue={100} helperText="Users bucketed stably by id" />
      {/* Not part of the rule: the API keeps it on the change's audit entry. Empty on every edit. */}
      <TextInput source="reason" label="Reason for this change" multiline fullWidth validate={[required(), notBlank, maxLength(1000)]} helperText="Required; recorded in the audit log" defaultValue="" />
    </>
  );
}

export function RolloutRuleCreate() {
  return (
    <Create title="New rollout rule" redirect="list">
      <SimpleForm>
        <RuleFields />
      </SimpleForm>
    </Create>
  );
}

export function RolloutRuleEdit() {
  return (
    <Edit title="Edit rollout rule" redirect="list" mutationMode="pessimistic">
      <SimpleForm>
        <RuleFields />
      </SimpleForm>
    </Edit>
  );
}
