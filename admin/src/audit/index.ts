import HistoryIcon from '@mui/icons-material/History';
import { AuditList } from './AuditList';

/** Resource AuditEntry: read-only log of staff actions. */
export default { list: AuditList, icon: HistoryIcon, options: { label: 'Audit log' } };
