/**
 * Test support for MFA at the protocol level: reading the key and the recovery codes off
 * the setup pages, computing codes the way an authenticator app would (otplib, from the
 * key shown in text), and waiting out the edge of a 30-second step.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';
import { Browser, field, formAction, type PageResponse } from './interactive-helpers.js';

export const STEP_MS = 30_000;

/** The TOTP code `offset` steps from now, as an authenticator app shows it. */
export function totpNow(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

/** Waits while the clock is within three seconds of a step's end (or half a second of its start). */
export async function awayFromStepEdge(): Promise<void> {
  const into = Date.now() % STEP_MS;
  if (into > STEP_MS - 3000) await sleep(STEP_MS - into + 500);
  else if (into < 500) await sleep(500 - into);
}

/** Waits until the next step begins (so a new code exists). */
export async function nextStep(): Promise<void> {
  await sleep(STEP_MS - (Date.now() % STEP_MS) + 300);
}

/** The key the setup page shows in text (its data attribute carries it ungrouped). */
export function secretOf(page: string): string {
  const match = /id="totp-secret"[^>]*data-secret="([A-Z2-7]{32})"[^>]*>([A-Z2-7 ]+)</.exec(page);
  assert.ok(match, `the page shows a key: ${page.slice(0, 300)}`);
  assert.equal(match[2]!.replace(/ /g, ''), match[1], 'the key in text is the same key');
  return match[1]!;
}

/** The recovery codes on the page shown after setup. */
export function recoveryCodesOf(page: string): string[] {
  return [...page.matchAll(/<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Submits an MFA page's form (the code page, the setup page, or Continue after the codes). */
export function submitStep(browser: Browser, page: string, fields: Record<string, string>): Promise<PageResponse> {
  return browser.post(formAction(page), { csrf: field(page, 'csrf'), request: field(page, 'request'), ...fields });
}

/** Whether a page is the code page of the MFA step. */
export function isCodePage(page: string): boolean {
  return /<h1>Enter code<\/h1>/.test(page) && /name="code"/.test(page);
}

/** Whether a page is the setup page showing a new key. */
export function isSetupPage(page: string): boolean {
  return /<h1>Set up multi-factor authentication<\/h1>/.test(page);
}
