import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium; the suite never downloads a browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `CI` set to anything but an explicit false. */
export function isCi(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/**
 * Whether the browser suite runs. Without Chromium it is skipped on a developer machine, with a
 * loud message; on CI it runs anyway and fails at launch, because CI must install Chromium.
 */
export function browserSuiteEnabled(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (isCi()) return true;
  process.stderr.write(
    [
      '',
      '#'.repeat(78),
      `#  SKIPPED: browser sign-in suite (test/browser) - no Chromium at ${CHROMIUM_PATH}.`,
      '#  Install it with: apt-get install -y chromium   (or set CHROMIUM_PATH).',
      '#  With CI=true a missing Chromium fails the run instead.',
      '#'.repeat(78),
      '',
      '',
    ].join('\n'),
  );
  return false;
}

/** A browser context on a brand-new profile directory, removed by `close()`. */
export interface FreshBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchFreshChromium(): Promise<FreshBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is required on CI but ${CHROMIUM_PATH} is missing: apt-get install -y chromium (see .ci/run)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'social-auth-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      viewport: { width: 1024, height: 720 },
      locale: 'en-US',
      timeout: 30_000,
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A non-persistent Chromium (each `newContext()` is a separate, empty profile: two people on two
 * machines), with `extraArgs` after the suite's own flags.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is required on CI but ${CHROMIUM_PATH} is missing: apt-get install -y chromium (see .ci/run)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 });
}
