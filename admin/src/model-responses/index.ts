import SmartToyIcon from '@mui/icons-material/SmartToyOutlined';
import { ModelResponseList } from './ModelResponseList';

/** Resource ModelResponse: read-only list of AI responses. */
export default { list: ModelResponseList, icon: SmartToyIcon, options: { label: 'AI responses' } };
