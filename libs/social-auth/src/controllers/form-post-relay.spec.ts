import { createHash } from 'node:crypto';
import { FORM_POST_RELAY_FIELD, FORM_POST_RELAY_HEADERS, checkCallbackForm, renderFormPostRelay } from './form-post-relay';

describe('checkCallbackForm', () => {
  it('accepts Apple’s post and keeps only the relayed fields', () => {
    const checked = checkCallbackForm({ state: 's', code: 'c', user: '{"name":{}}', extra: 'dropped' });
    expect(checked).toEqual({ ok: true, params: { state: 's', code: 'c', error: undefined }, fields: { state: 's', code: 'c', user: '{"name":{}}' }, relayed: false });
  });

  it('recognises the relay’s own re-post', () => {
    expect(checkCallbackForm({ state: 's', code: 'c', [FORM_POST_RELAY_FIELD]: '1' })).toMatchObject({ ok: true, relayed: true });
  });

  it.each([
    ['no body (no form parser)', undefined, 'invalid_request'],
    ['a string body', 'state=s&code=c', 'invalid_request'],
    ['an array body', [], 'invalid_request'],
    ['a repeated state (parsed as an array)', { state: ['a', 'b'], code: 'c' }, 'invalid_request'],
    ['a nested field', { state: { x: '1' }, code: 'c' }, 'invalid_request'],
    ['an id_token (implicit injection)', { state: 's', code: 'c', id_token: 'x.y.z' }, 'invalid_request'],
    ['no state', { code: 'c' }, 'invalid_state'],
    ['code and error', { state: 's', code: 'c', error: 'x' }, 'invalid_request'],
    ['a control character', { state: 's', code: 'c\r\n' }, 'invalid_request'],
    ['a relay marker other than 1', { state: 's', code: 'c', [FORM_POST_RELAY_FIELD]: 'yes' }, 'invalid_request'],
    ['an oversized user field', { state: 's', code: 'c', user: 'x'.repeat(3000) }, 'invalid_request'],
  ])('refuses %s', (_name, body, code) => {
    expect(checkCallbackForm(body)).toEqual({ ok: false, code });
  });
});

describe('renderFormPostRelay', () => {
  it('escapes every value and posts to the given action with the marker', () => {
    const html = renderFormPostRelay('https://app.example/auth/apple/callback', { state: '"><script>alert(1)</script>', code: "c'&<", user: '{"name":{"firstName":"</script>"}}' });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('"firstName":"</script>"');
    expect(html).toContain('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
    expect(html).toContain('value="c&#39;&#38;&#60;"');
    expect(html).toContain(`name="${FORM_POST_RELAY_FIELD}" value="1"`);
    expect(html).toContain('action="https://app.example/auth/apple/callback"');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('allows exactly its one script by hash, and is never cached or framed', () => {
    const html = renderFormPostRelay('/cb', { state: 's', code: 'c' });
    const script = /<script>(.*?)<\/script>/.exec(html)![1];
    const hash = createHash('sha256').update(script).digest('base64');
    expect(FORM_POST_RELAY_HEADERS['Content-Security-Policy']).toContain(`script-src 'sha256-${hash}'`);
    expect(FORM_POST_RELAY_HEADERS['Content-Security-Policy']).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(FORM_POST_RELAY_HEADERS['Cache-Control']).toBe('no-store');
  });
});
