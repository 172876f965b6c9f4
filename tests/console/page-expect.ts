/**
 * Waiting assertions for console pages: poll the element until it matches or the time is
 * up, then save a screenshot and fail with what was last seen. No fixed sleeps.
 */
import type { Locator } from 'playwright-core';
import { screenshot } from './browser';

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeout: number, describe: (last: T) => string, page: Locator): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      await screenshot(page.page(), `failed-${Date.now()}`);
      throw new Error(describe(last));
    }
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
}

const matches = (text: string, expected: string | RegExp) => (typeof expected === 'string' ? text.includes(expected) : expected.test(text));

export function expectText(locator: Locator, expected: string | RegExp, timeout = 15_000): Promise<void> {
  return until(
    async () => (await locator.textContent({ timeout: 1_000 }).catch(() => '')) ?? '',
    (t) => matches(t, expected),
    timeout,
    (t) => `expected ${String(expected)} in the element, last saw ${JSON.stringify(t)}`,
    locator,
  );
}

export function expectAttribute(locator: Locator, name: string, expected: string | RegExp, timeout = 15_000): Promise<void> {
  return until(
    () => locator.getAttribute(name, { timeout: 1_000 }).catch(() => null),
    (v) => v !== null && (typeof expected === 'string' ? v === expected : expected.test(v)),
    timeout,
    (v) => `expected ${name}=${String(expected)}, last saw ${JSON.stringify(v)}`,
    locator,
  );
}

export function expectCount(locator: Locator, expected: number, timeout = 15_000): Promise<void> {
  return until(() => locator.count(), (n) => n === expected, timeout, (n) => `expected ${expected} elements, last saw ${n}`, locator);
}
