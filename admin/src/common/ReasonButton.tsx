import { ReactElement, useState } from 'react';
import { Button, Dialog, DialogActions, DialogContent, DialogContentText, DialogTitle, TextField } from '@mui/material';
import { useMutation } from '@tanstack/react-query';
import { useNotify, useRefresh } from 'react-admin';

export interface ReasonButtonProps {
  label: string;
  /** Shown in the dialog above the reason field. */
  description: string;
  icon?: ReactElement;
  color?: 'primary' | 'error' | 'warning' | 'success' | 'inherit';
  /** Stable hook for tests and the dialog's confirm button (`${testId}-confirm`). */
  testId: string;
  successMessage: string;
  disabled?: boolean;
  run: (reason: string) => Promise<unknown>;
}

const MAX_REASON = 1000;

/**
 * A small action button that asks for a reason (required, audited) in a dialog, runs
 * the action, then refreshes the page's data.
 */
export function ReasonButton({ label, description, icon, color = 'primary', testId, successMessage, disabled, run }: ReasonButtonProps) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const notify = useNotify();
  const refresh = useRefresh();
  const mutation = useMutation({
    mutationFn: (r: string) => run(r),
    onSuccess: () => {
      notify(successMessage, { type: 'success' });
      setOpen(false);
      setReason('');
      refresh();
    },
    onError: (error: Error) => notify(error.message || 'The action failed', { type: 'error' }),
  });
  const trimmed = reason.trim();
  const invalid = trimmed.length === 0 || trimmed.length > MAX_REASON;

  return (
    <>
      <Button size="small" variant="outlined" color={color} startIcon={icon} disabled={disabled} onClick={() => setOpen(true)} data-testid={testId}>
        {label}
      </Button>
      <Dialog open={open} onClose={() => !mutation.isPending && setOpen(false)} fullWidth maxWidth="sm">
        <DialogTitle>{label}</DialogTitle>
        <DialogContent>
          <DialogContentText sx={{ mb: 2 }}>{description}</DialogContentText>
          <TextField
            autoFocus
            required
            fullWidth
            multiline
            minRows={2}
            label="Reason"
            helperText={trimmed.length > MAX_REASON ? `At most ${MAX_REASON} characters` : 'Required; recorded in the audit log'}
            error={trimmed.length > MAX_REASON}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            slotProps={{ htmlInput: { 'data-testid': `${testId}-reason` } }}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)} disabled={mutation.isPending}>
            Cancel
          </Button>
          <Button variant="contained" color={color === 'inherit' ? 'primary' : color} disabled={invalid || mutation.isPending} onClick={() => mutation.mutate(trimmed)} data-testid={`${testId}-confirm`}>
            {label}
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}
