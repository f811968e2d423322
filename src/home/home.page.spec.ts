import { errorSentence, escapeHtml, homePageCsp, renderHomePage } from './home.page';

const providers = [
  { id: 'google', name: 'Google', loginUrl: '/auth/google' },
  { id: 'github', name: 'GitHub', loginUrl: '/auth/github' },
];

describe('demo home page', () => {
  it('offers a labelled sign-in link per provider', () => {
    const html = renderHomePage({ providers, nonce: 'n0nce', sandbox: false });
    expect(html).toContain('<a class="button" href="/auth/google">Sign in with Google</a>');
    expect(html).toContain('<a class="button" href="/auth/github">Sign in with GitHub</a>');
    expect(html).toMatch(/<html lang="en">/);
    expect(html.match(/<main>/g)).toHaveLength(1);
    expect(html).toContain(':focus-visible');
  });

  it.each([
    ['access_denied', 'Sign-in was cancelled at the provider'],
    ['account_exists', 'already exists'],
    ['provider_unavailable', 'could not be reached'],
  ])('shows ?error=%s in words, in an alert', (code, words) => {
    const html = renderHomePage({ providers, error: code, nonce: 'n', sandbox: false });
    expect(html).toMatch(new RegExp(`<div class="alert" role="alert"><p>[^<]*${words}`));
    expect(html).not.toContain(`>${code}<`);
  });

  it.each(['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'constructor', '__proto__', 'toString'])('never reflects an unknown error value %j', (value) => {
    const html = renderHomePage({ providers, error: value, nonce: 'n', sandbox: false });
    expect(html).toContain(errorSentence('anything-unknown'));
    expect(html).not.toContain(value);
  });

  it('escapes provider names and URLs and cannot be broken out of the JSON block', () => {
    const html = renderHomePage({ providers: [{ id: 'x', name: '<b>"X"</b>', loginUrl: '/auth/x"><script>' }], nonce: 'n', sandbox: false });
    expect(html).not.toContain('<b>"X"</b>');
    expect(html).not.toContain('/auth/x"><script>');
    expect(html).toContain('Sign in with &#60;b&#62;&#34;X&#34;&#60;/b&#62;');
    const json = /<script type="application\/json" id="providers">(.*?)<\/script>/s.exec(html)![1];
    expect(json).not.toContain('<');
    expect(JSON.parse(json)[0].loginUrl).toBe('/auth/x"><script>');
  });

  it('runs its script and style only with the response nonce', () => {
    const html = renderHomePage({ providers, nonce: 'abc123', sandbox: true });
    expect(html).toContain('<script nonce="abc123">');
    expect(html).toContain('<style nonce="abc123">');
    expect(homePageCsp('abc123')).toContain("script-src 'nonce-abc123'");
    expect(homePageCsp('abc123')).toContain("default-src 'none'");
    expect(html).toContain('Sandbox');
  });

  it('escapes the characters that matter in HTML', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&#60;a href&#61;&#34;x&#34; onclick&#61;&#39;y&#39;&#62;&#38;');
  });
});
