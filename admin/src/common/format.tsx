import { Chip } from '@mui/material';

const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** "25 Nov 2026, 06:40" or an em dash. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME.format(d);
}

/** "in 42 min", "3 h ago"… relative to now. */
export function formatRelative(iso: string | null | undefined): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - Date.now();
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (abs < 60_000) return rtf.format(Math.round(diff / 1000), 'second');
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), 'hour');
  return rtf.format(Math.round(diff / 86_400_000), 'day');
}

export const DATE_OPTIONS = { dateStyle: 'medium', timeStyle: 'short' } as const;

export function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const STATUS_COLOR: Record<string, 'default' | 'warning' | 'success' | 'error' | 'info'> = {
  OPEN: 'warning',
  DISMISSED: 'default',
  MESSAGE_REMOVED: 'info',
  AUTHOR_SUSPENDED: 'error',
  COMPLETED: 'success',
  FAILED: 'error',
  BLOCKED: 'error',
};

export function StatusChip({ status }: { status: string | null | undefined }) {
  if (!status) return null;
  return <Chip size="small" label={status.replace(/_/g, ' ').toLowerCase()} color={STATUS_COLOR[status] ?? 'default'} />;
}

export function TeenChip() {
  return <Chip size="small" color="secondary" label="teen" data-testid="teen-chip" />;
}

const SEVERITY_COLOR: Record<string, 'default' | 'warning' | 'error'> = { HIGH: 'error', MEDIUM: 'warning', high: 'error', medium: 'warning' };

export function SeverityChip({ severity }: { severity: string | null | undefined }) {
  if (!severity) return null;
  return <Chip size="small" variant="outlined" label={severity.toLowerCase()} color={SEVERITY_COLOR[severity] ?? 'default'} />;
}

/** A date-time that never wraps, with the ISO instant on hover. */
export function DateTimeText({ iso }: { iso: string | null | undefined }) {
  return (
    <span style={{ whiteSpace: 'nowrap' }} title={iso ?? undefined}>
      {formatDateTime(iso)}
    </span>
  );
}
