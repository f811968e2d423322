import type { BrowserContext, Cookie, Page } from 'playwright-core';

/*
 * In-page scripts are plain strings, not functions: Playwright serialises functions with
 * toString(), which breaks if a coverage run has instrumented this file.
 */

/** Result of {@link auditPage}. */
export interface PageAudit {
  /** Everything wrong, in words; empty when the page passes. */
  problems: string[];
  /** Buttons and links as the browser's accessibility tree names them. */
  controls: { role: string; name: string }[];
}

const DOM_AUDIT = String.raw`(() => {
  const problems = [];
  if (!document.documentElement.getAttribute('lang')) problems.push('<html> has no lang attribute');
  const mains = document.querySelectorAll('main, [role="main"]');
  if (mains.length !== 1) problems.push('expected exactly one <main> landmark, found ' + mains.length);

  let focusVisibleRule = false;
  const visit = (rules) => {
    for (const rule of rules) {
      if (rule.selectorText && rule.selectorText.includes(':focus-visible')) focusVisibleRule = true;
      if (rule.cssRules) visit(rule.cssRules);
    }
  };
  for (const sheet of document.styleSheets) {
    try { visit(sheet.cssRules); } catch (e) { /* cross-origin sheet */ }
  }
  if (!focusVisibleRule) problems.push('no :focus-visible rule in the page styles');

  // WCAG 2.x contrast of every visible text against its effective background.
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;
      const c = rgba(s.backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let checked = 0;
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!el || seen.has(el) || !t.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('[hidden], [aria-hidden="true"], script, style, noscript')) continue;
    const s = getComputedStyle(el);
    if (s.visibility !== 'visible' || s.display === 'none' || el.getClientRects().length === 0) continue;
    const bg = background(el);
    if (!bg) continue;
    const fg = over(rgba(s.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const min = large ? 3 : 4.5;
    checked++;
    if (ratio < min) {
      problems.push('contrast ' + ratio.toFixed(2) + ':1 < ' + min + ':1 for "' + t.textContent.trim().slice(0, 40) + '" (' + s.color + ' on ' + s.backgroundColor + ')');
    }
  }
  if (checked === 0) problems.push('no visible text found to check contrast');
  return problems;
})()`;

interface AxNode {
  ignored?: boolean;
  role?: { value?: string };
  name?: { value?: string };
}

const NAMED_ROLES = new Set(['button', 'link', 'textbox', 'checkbox', 'radio', 'combobox', 'menuitem', 'tab', 'switch']);

/**
 * Accessibility audit of the current page, as Chromium itself computes it: `<html lang>`, one
 * `<main>` landmark, a `:focus-visible` rule, every button/link (and form control) with an
 * accessible name, and WCAG AA text contrast.
 */
export async function auditPage(page: Page): Promise<PageAudit> {
  const problems = (await page.evaluate(DOM_AUDIT)) as string[];
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Accessibility.enable');
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as unknown as { nodes: AxNode[] };
    const controls: PageAudit['controls'] = [];
    for (const node of nodes) {
      const role = node.role?.value ?? '';
      if (node.ignored || !NAMED_ROLES.has(role)) continue;
      const name = (node.name?.value ?? '').trim();
      controls.push({ role, name });
      if (!name) problems.push(`a ${role} has no accessible name`);
    }
    if (!nodes.some((n) => !n.ignored && n.role?.value === 'main')) problems.push('no main landmark in the accessibility tree');
    return { problems, controls };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

const FOCUS_STYLE = String.raw`(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 60),
    focusVisible: el.matches(':focus-visible'),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 ? s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor : '',
    boxShadow: s.boxShadow !== 'none' ? s.boxShadow : '',
  };
})()`;

/** What the keyboard focus looks like after pressing Tab from the top of the page. */
export interface FocusState {
  tag: string;
  text: string;
  focusVisible: boolean;
  outline: string;
  boxShadow: string;
}

/** Presses Tab once from the top of the page and reports the focused control and its focus ring. */
export async function tabToFirstControl(page: Page): Promise<FocusState | null> {
  await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
  await page.keyboard.press('Tab');
  return (await page.evaluate(FOCUS_STYLE)) as FocusState | null;
}

const STORAGE_DUMP = String.raw`(() => {
  const dump = (s) => { const out = []; for (let i = 0; i < s.length; i++) { const k = s.key(i); out.push([k, s.getItem(k)]); } return out; };
  return { local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie };
})()`;

/** What page scripts can see: Web Storage of the current origin and `document.cookie`. */
export interface ScriptVisibleState {
  local: [string, string][];
  session: [string, string][];
  cookie: string;
}

export async function scriptVisibleState(page: Page): Promise<ScriptVisibleState> {
  return (await page.evaluate(STORAGE_DUMP)) as ScriptVisibleState;
}

/** Every URL the browser committed (history) or requested (redirect hops included). */
export class UrlRecorder {
  readonly navigations: string[] = [];
  readonly requests: string[] = [];

  constructor(context: BrowserContext) {
    context.on('request', (request) => this.requests.push(request.url()));
    context.on('page', (page) => this.watch(page));
    for (const page of context.pages()) this.watch(page);
  }

  private watch(page: Page): void {
    page.on('framenavigated', (frame) => this.navigations.push(frame.url()));
  }
}

/** Cookie values seen during the run, to search URLs for them. */
export class CookieLedger {
  private readonly values = new Map<string, string>();

  remember(cookies: Cookie[]): void {
    for (const c of cookies) if (c.value.length >= 16) this.values.set(c.value, c.name);
  }

  /** `[cookie name, url]` for every URL that contains a remembered cookie value (raw or decoded). */
  leaksIn(urls: string[]): [string, string][] {
    const leaks: [string, string][] = [];
    for (const url of urls) {
      let decoded = url;
      try {
        decoded = decodeURIComponent(url);
      } catch {
        // keep the raw form
      }
      for (const [value, name] of this.values) {
        const encoded = encodeURIComponent(value);
        if (url.includes(value) || url.includes(encoded) || decoded.includes(value)) leaks.push([name, url]);
      }
    }
    return leaks;
  }

  get size(): number {
    return this.values.size;
  }
}

/** Query parameters and fragments that must never appear on an app URL the user can see. */
const SECRET_IN_URL = /[?&#](access_token|id_token|refresh_token|refreshToken|accessToken|token|code|state)=|refresh/i;

/**
 * App URLs (same origin as `appUrl`) carrying a token, code or state. The OAuth callback is the
 * one app URL that legitimately carries `code` and `state`; it is a redirect hop, so it is allowed
 * in `requests` but must never be committed to history (checked by the caller).
 */
export function secretsOnAppUrls(appUrl: string, urls: string[], { allowCallback }: { allowCallback: boolean }): string[] {
  const origin = new URL(appUrl).origin;
  return urls.filter((raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return false;
    }
    if (url.origin !== origin) return false;
    if (allowCallback && /^\/auth\/[^/]+\/callback$/.test(url.pathname)) return false;
    if (/^\/auth\/refresh$/.test(url.pathname)) return false;
    return SECRET_IN_URL.test(url.search + url.hash) || /token/i.test(url.search + url.hash);
  });
}
