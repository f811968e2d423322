import { canonicalEmail } from './canonical-email';

const VICTIM = 'victim@example.com';

describe('canonicalEmail', () => {
  // Spellings of the same mailbox: one canonical form, so a verified email matches whatever the
  // provider's capitalisation or Unicode normalisation.
  it.each([
    ['already canonical', 'victim@example.com', VICTIM],
    ['upper-case local part and domain', 'Victim@Example.COM', VICTIM],
    ['surrounding spaces', '  victim@example.com ', VICTIM],
    ['trailing tab and newline', 'victim@example.com\t\n', VICTIM],
    ['NFD local part equals its NFC form', 'jose\u0301@example.com', 'jos\u00e9@example.com'],
    ['NFC local part stays NFC', 'jos\u00e9@example.com', 'jos\u00e9@example.com'],
    ['upper-case NFD accented letter', 'JOSE\u0301@EXAMPLE.COM', 'jos\u00e9@example.com'],
    ['plus addressing kept verbatim', 'victim+tag@example.com', 'victim+tag@example.com'],
    ['dots in the local part kept (no provider-specific folding)', 'vic.tim@example.com', 'vic.tim@example.com'],
    ['Hangul jamo compose into their syllable', '\u1112\u1161\u11ab@example.com', '\ud55c@example.com'],
    ['internationalised domain kept in Unicode', 'victim@b\u00fccher.de', 'victim@b\u00fccher.de'],
  ])('%s: %j → %j', (_name, input, expected) => {
    expect(canonicalEmail(input)).toBe(expected);
  });

  // Look-alikes: each has a canonical form (a legitimate mailbox may use these characters), but it
  // never equals the victim's, so such an address can never match the victim's account.
  it.each([
    ['Cyrillic а (U+0430) in the local part', 'vict\u0456m@example.com'],
    ['Cyrillic а (U+0430) in the domain', 'victim@ex\u0430mple.com'],
    ['fullwidth ｖ (U+FF56)', '\uff56ictim@example.com'],
    ['Greek ο (U+03BF) for o', 'victim@exampl\u0435.c\u03bfm'],
    ['dotless ı (U+0131) for i', 'v\u0131ctim@example.com'],
  ])('homoglyph never equals the victim: %s', (_name, input) => {
    const canonical = canonicalEmail(input);
    expect(canonical).not.toBe(VICTIM);
  });

  // Addresses a comparison must not rely on: no canonical form at all, so they match nothing.
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
    ['only spaces', '   '],
    ['dotted capital İ (U+0130), whose lower case holds ASCII i', 'V\u0130CTIM@example.com'],
    // Issue 14 finding 5: characters NFC replaces by another one share the other's canonical form.
    ['Kelvin sign (U+212A), which NFC turns into K', '\u212Aate@example.com'],
    ['Kelvin sign (U+212A) in the domain', 'kate@e\u212Aample.com'],
    ['Ohm sign (U+2126), which NFC turns into Greek Ω', '\u2126mega@example.com'],
    ['Ångström sign (U+212B), which NFC turns into Å', '\u212Bsa@example.com'],
    ['CJK compatibility ideograph (U+F900)', '\uf900@example.com'],
    ['composition-excluded U+0344', 'a\u0344@example.com'],
    ['fullwidth ＠ (U+FF20) instead of @', 'victim\uff20example.com'],
    ['small commercial at ﹫ (U+FE6B)', 'victim\ufe6bexample.com'],
    ['no @', 'victim.example.com'],
    ['two @', 'victim@evil@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'victim@'],
    ['domain without a dot', 'victim@localhost'],
    ['trailing dot on the domain', 'victim@example.com.'],
    ['trailing dot then space', 'victim@example.com. '],
    ['leading dot on the domain', 'victim@.example.com'],
    ['double dot in the domain', 'victim@example..com'],
    ['label starting with a hyphen', 'victim@-example.com'],
    ['inner space', 'vic tim@example.com'],
    ['no-break space inside (U+00A0)', 'victim\u00a0@example.com'],
    ['zero-width space (U+200B)', 'vic\u200btim@example.com'],
    ['zero-width joiner (U+200D)', 'victim@exa\u200dmple.com'],
    ['right-to-left override (U+202E)', '\u202evictim@example.com'],
    ['NUL byte', 'victim\u0000@example.com'],
    ['CRLF inside', 'victim@example.com\r\nBcc: x@example.com'],
    ['321 characters', `${'a'.repeat(64)}@${'b'.repeat(250)}.com`],
    ['local part over 64 characters', `${'a'.repeat(65)}@example.com`],
  ])('no canonical form: %s', (_name, input) => {
    expect(canonicalEmail(input as string | null | undefined)).toBeNull();
  });

  it('320 characters is still an address', () => {
    const label = 'b'.repeat(63);
    const domain = `${label}.${label}.${label}.${'c'.repeat(57)}.com`; // 253 characters
    const email = `${'a'.repeat(64)}@${domain}`;
    expect(email.length).toBeLessThanOrEqual(320);
    expect(canonicalEmail(email)).toBe(email);
  });

  it('an address and its Kelvin-sign spelling never share a canonical form', () => {
    expect(canonicalEmail('kate@example.com')).toBe('kate@example.com');
    expect(canonicalEmail('\u212Aate@example.com')).not.toBe(canonicalEmail('kate@example.com'));
  });

  it('is idempotent', () => {
    for (const input of ['Victim@Example.COM', 'JOSE\u0301@EXAMPLE.COM', '\uff56ictim@example.com']) {
      const once = canonicalEmail(input)!;
      expect(canonicalEmail(once)).toBe(once);
    }
  });
});
