import { FormEvent, useState } from 'react';
import { Alert, Box, Button, Card, CardContent, TextField, Typography } from '@mui/material';
import { useLogin } from 'react-admin';

function signInError(err: unknown): string {
  const e = err as { message?: string; body?: { code?: string; extensions?: { retryAfterSeconds?: number } } };
  const retry = e.body?.extensions?.retryAfterSeconds;
  if (e.body?.code === 'RATE_LIMITED' && typeof retry === 'number') {
    return `Too many sign-in attempts: try again in ${Math.max(1, Math.ceil(retry / 60))} min`;
  }
  return e.message || 'Sign-in failed';
}

/** Email + password sign-in for staff; the error stays on the page. */
export function LoginPage() {
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login({ username: email, password });
    } catch (err) {
      setError(signInError(err));
      setBusy(false);
    }
  };

  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', bgcolor: '#eef1f6' }}>
      <Card sx={{ width: 380 }}>
        <CardContent>
          <Typography variant="h5" gutterBottom>
            Roundtable staff
          </Typography>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
            Sign in with your staff account.
          </Typography>
          <form onSubmit={submit} noValidate>
            <TextField label="Email" type="email" autoComplete="username" fullWidth required margin="dense" value={email} onChange={(e) => setEmail(e.target.value)} slotProps={{ htmlInput: { 'data-testid': 'login-email' } }} />
            <TextField label="Password" type="password" autoComplete="current-password" fullWidth required margin="dense" value={password} onChange={(e) => setPassword(e.target.value)} slotProps={{ htmlInput: { 'data-testid': 'login-password' } }} />
            {error && (
              <Alert severity="error" sx={{ mt: 1 }} data-testid="login-error">
                {error}
              </Alert>
            )}
            <Button type="submit" variant="contained" fullWidth sx={{ mt: 2 }} disabled={busy || !email || !password} data-testid="login-submit">
              {busy ? 'Signing in…' : 'Sign in'}
            </Button>
          </form>
        </CardContent>
      </Card>
    </Box>
  );
}
