import { ReactElement, ReactNode, useState } from 'react';
import { Button, Dialog, DialogActions, DialogContent, DialogContentText, DialogTitle, TextField } from '@mui/material';
import { useMutation } from '@tanstack/react-query';
import { useNotify, useRefresh } from 'react-admin';

type Color = 'primary' | 'error' | 'warning' | 'success' | 'inherit';

export interface ReasonDialogProps {
  open: boolean;
  title: string;
  /** Shown in the dialog above the reason field. */
  description: ReactNode;
  /** The confirm button's text. */
  confirmLabel: string;
  color?: Color;
  /** Stable hooks for tests: `${testId}-dialog`, `-reason`, `-confirm`, `-cancel`. */
  testId: string;
  successMessage: string;
  run: (reason: string) => Promise<unknown>;
  onClose: () => void;
  onDone?: () => void;
}

const MAX_REASON = 1000;

/**
 * Asks for a reason (required, at most 1000 characters, audited) before running an action;
 * Cancel runs nothing. Used by every staff action that changes something.
 */
export function ReasonDialog({ open, title, description, confirmLabel, color = 'primary', testId, successMessage, run, onClose, onDone }: ReasonDialogProps) {
  const [reason, setReason] = useState('');
  const notify = useNotify();
  const mutation = useMutation({
    mutationFn: (r: string) => run(r),
    onSuccess: () => {
      notify(successMessage, { type: 'success' });
      setReason('');
      onClose();
      onDone?.();
    },
    onError: (error: Error) => notify(error.message || 'The action failed', { type: 'error' }),
  });
  const trimmed = reason.trim();
  const invalid = trimmed.length === 0 || trimmed.length > MAX_REASON;
  const close = () => {
    if (mutation.isPending) return;
    setReason('');
    onClose();
  };

  return (
    <Dialog open={open} onClose={close} fullWidth maxWidth="sm" data-testid={`${testId}-dialog`}>
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        <DialogContentText component="div" sx={{ mb: 2 }}>
          {description}
        </DialogContentText>
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
        <Button onClick={close} disabled={mutation.isPending} data-testid={`${testId}-cancel`}>
          Cancel
        </Button>
        <Button variant="contained" color={color === 'inherit' ? 'primary' : color} disabled={invalid || mutation.isPending} onClick={() => mutation.mutate(trimmed)} data-testid={`${testId}-confirm`}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
}

export interface ReasonButtonProps {
  label: string;
  /** Shown in the dialog above the reason field. */
  description: string;
  icon?: ReactElement;
  color?: Color;
  /** Stable hook for tests and the dialog's confirm button (`${testId}-confirm`). */
  testId: string;
  successMessage: string;
  disabled?: boolean;
  run: (reason: string) => Promise<unknown>;
}

/**
 * A small action button that asks for a reason (required, audited) in a dialog, runs
 * the action, then refreshes the page's data.
 */
export function ReasonButton({ label, description, icon, color = 'primary', testId, successMessage, disabled, run }: ReasonButtonProps) {
  const [open, setOpen] = useState(false);
  const refresh = useRefresh();
  return (
    <>
      <Button size="small" variant="outlined" color={color} startIcon={icon} disabled={disabled} onClick={() => setOpen(true)} data-testid={testId}>
        {label}
      </Button>
      <ReasonDialog
        open={open}
        title={label}
        description={description}
        confirmLabel={label}
        color={color}
        testId={testId}
        successMessage={successMessage}
        run={run}
        onClose={() => setOpen(false)}
        onDone={refresh}
      />
    </>
  );
}
