import type { DemoProcess } from './demo-process';

/**
 * Starts the demo and a browser at once (each takes seconds). Both or neither: when one fails, the
 * one that started is shut down and the error names every failure, so a suite's `afterAll` has
 * nothing half-started to leak.
 */
export async function startDemoAndBrowser<B extends { close(): Promise<unknown> }>(boot: () => Promise<DemoProcess>, launch: () => Promise<B>): Promise<{ demo: DemoProcess; browser: B }> {
  const [started, launched] = await Promise.allSettled([boot(), launch()]);
  if (started.status === 'fulfilled' && launched.status === 'fulfilled') return { demo: started.value, browser: launched.value };
  if (started.status === 'fulfilled') await started.value.stop();
  if (launched.status === 'fulfilled') await launched.value.close().catch(() => undefined);
  const failures = [launched, started].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error)?.message ?? r.reason));
  throw new Error(failures.join('\n\n'));
}

/**
 * `it` for a scenario whose steps build on each other: once a step fails, every later one fails at
 * once naming it (instead of each waiting for its timeout). `onFailure` runs when a step fails,
 * before its error is reported (e.g. to keep a screenshot of the page).
 */
export function scenarioSteps(onFailure?: () => Promise<unknown>): (name: string, fn: () => Promise<void> | void) => void {
  let failedStep: string | undefined;
  return (name, fn) =>
    it(name, async () => {
      if (failedStep) throw new Error(`not run: the earlier step "${failedStep}" failed`);
      try {
        await fn();
      } catch (error) {
        failedStep = name;
        await onFailure?.().catch(() => undefined);
        throw error;
      }
    });
}
