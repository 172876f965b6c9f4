import ReportIcon from '@mui/icons-material/ReportProblemOutlined';
import { SafetyCaseList } from './SafetyCaseList';
import { SafetyCaseShow } from './SafetyCaseShow';

/** Resource SafetyCase: the review queue. */
export default {
  list: SafetyCaseList,
  show: SafetyCaseShow,
  icon: ReportIcon,
  recordRepresentation: 'excerpt',
  options: { label: 'Safety review' },
};
