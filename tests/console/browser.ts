/**
 * Headless Chromium for the console's end-to-end tests: Debian's /usr/bin/chromium
 * driven by playwright-core (no browser download), one browser per test file, one
 * fresh context (profile, localStorage) per staff member.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newestMtime } from '../support/build';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

const ROOT = resolve(__dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A context with no shared state: its own cookies and localStorage. */
export async function freshContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  return context;
}


/** Builds admin/dist when it is missing or older than the console's sources (npm test builds it already). */
export function ensureConsoleBuilt(): void {
  const index = join(ROOT, 'admin', 'dist', 'index.html');
  const sources = Math.max(newestMtime(join(ROOT, 'admin', 'src')), statSync(join(ROOT, 'admin', 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'admin/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
}

/** Saves a full-page screenshot as artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Collects uncaught page errors so a test can assert the console did not crash. */
export function pageErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  if (process.env.CONSOLE_E2E_DEBUG) page.on('console', (m) => m.type() === 'error' && console.error(`[browser] ${m.text()}`));
  return errors;
}

/** The console's address on `apiOrigin`, at `hash` (a react-admin route) when given. */
export const consolePage = (apiOrigin: string, hash = ''): string => `${apiOrigin}/admin/${hash ? `#/${hash}` : ''}`;

/** Fills and sends the console's sign-in form on `page`; does not wait for the outcome. */
export async function signInConsole(page: Page, apiOrigin: string, email: string, password: string): Promise<void> {
  await page.goto(consolePage(apiOrigin, 'login'));
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}
