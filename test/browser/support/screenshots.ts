import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Page } from 'playwright-core';

/** Where the suite leaves its screenshots (git-ignored). */
export const ARTIFACTS_DIR = resolve(__dirname, '../../../test-artifacts/browser');

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Empties the artifacts directory so a run never shows a previous run's pictures. */
export function resetArtifacts(): void {
  rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
}

/**
 * Saves a full-page screenshot as `test-artifacts/browser/<name>.png` and checks that the file is
 * a real PNG (signature) with something in it (more than 1 kB). Returns the path, repo-relative.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const size = statSync(file).size;
  const head = readFileSync(file).subarray(0, PNG_SIGNATURE.length);
  if (size <= 1024) throw new Error(`screenshot ${file} is only ${size} bytes`);
  if (!head.equals(PNG_SIGNATURE)) throw new Error(`screenshot ${file} is not a PNG`);
  return relative(resolve(__dirname, '../../..'), file);
}
