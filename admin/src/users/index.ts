import PeopleIcon from '@mui/icons-material/PeopleOutlined';
import { UserList } from './UserList';
import { UserShow } from './UserShow';

/** Resource User: quota inspection, reset, suspension. */
export default {
  list: UserList,
  show: UserShow,
  icon: PeopleIcon,
  recordRepresentation: (u: { username?: string | null; subject: string }) => (u.username ? `@${u.username}` : u.subject),
  options: { label: 'Users & quotas' },
};
