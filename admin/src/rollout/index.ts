import FlagIcon from '@mui/icons-material/FlagOutlined';
import { RolloutRuleList } from './RolloutRuleList';
import { RolloutRuleCreate, RolloutRuleEdit } from './RolloutRuleForm';

export { RolloutGridPage } from './RolloutGrid';

/** Resource RolloutRule: rules (create/edit/delete are admin only) and the grid page. */
export default {
  list: RolloutRuleList,
  create: RolloutRuleCreate,
  edit: RolloutRuleEdit,
  icon: FlagIcon,
  recordRepresentation: (r: { feature: string; region: string; plan: string }) => `${r.feature} ${r.region}/${r.plan}`,
  options: { label: 'Rollout rules' },
};
