import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseName, parseAddress } from '../src/address.js';

describe('parseAddress', () => {
  it.each([
    ['reader@example.org', 'reader@example.org', 'reader@example.org'],
    // Stored as typed (domain lower-cased), keyed with the local part's ASCII letters lower-cased too.
    ['  Reader.One@Example.ORG ', 'Reader.One@example.org', 'reader.one@example.org'],
    // Only ASCII is folded, as the store's migration folds it in SQL.
    ['ÄRGER.Box@example.org', 'ÄRGER.Box@example.org', 'Ärger.box@example.org'],
    ["o'brien+news@sub.example.co.uk", "o'brien+news@sub.example.co.uk", "o'brien+news@sub.example.co.uk"],
    ["!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org"],
    ['"john doe"@example.org', '"john doe"@example.org', '"john doe"@example.org'],
    ['"john"@example.org', 'john@example.org', 'john@example.org'],
    ['"a\\"b@c"@example.org', '"a\\"b@c"@example.org', '"a\\"b@c"@example.org'],
    ['user@bücher.ch', 'user@xn--bcher-kva.ch', 'user@xn--bcher-kva.ch'],
    ['user@XN--BCHER-KVA.ch', 'user@xn--bcher-kva.ch', 'user@xn--bcher-kva.ch'],
    ['user@例え。jp', 'user@xn--r8jz45g.jp', 'user@xn--r8jz45g.jp'],
    ['пошта@приклад.укр', 'пошта@xn--80aikifvh.xn--j1amh', 'пошта@xn--80aikifvh.xn--j1amh'],
    // NFD local part: stored as given, keyed in NFC so both spellings are one subscriber.
    ['jose\u0301@example.org', 'jose\u0301@example.org', 'jos\u00e9@example.org'],
    ['user@[192.0.2.1]', 'user@[192.0.2.1]', 'user@[192.0.2.1]'],
    ['user@[IPv6:2001:DB8::1]', 'user@[IPv6:2001:db8::1]', 'user@[IPv6:2001:db8::1]'],
    [`${'a'.repeat(64)}@example.org`, `${'a'.repeat(64)}@example.org`, `${'a'.repeat(64)}@example.org`],
  ])('accepts %j as %j', (input, address, key) => {
    expect(parseAddress(input)).toEqual({ ok: true, address, key });
  });

  it.each([
    ['', /is empty/],
    ['   ', /is empty/],
    ['plainaddress', /not an address/],
    ['@example.org', /not an address/],
    ['user@', /not an address/],
    ['a..b@example.org', /not a valid local part/],
    ['.a@example.org', /not a valid local part/],
    ['a.@example.org', /not a valid local part/],
    ['a b@example.org', /not a valid local part/],
    ['Name <user@example.org>', /not a valid/],
    ['"unclosed@example.org', /not a valid local part/],
    ['""@example.org', /local part is empty/],
    [`${'a'.repeat(65)}@example.org`, /local part is longer than 64/],
    [`${'é'.repeat(33)}@example.org`, /local part is longer than 64 octets/],
    ['user@localhost', /needs a dot/],
    ['user@example..org', /empty label/],
    ['user@-example.org', /invalid label/],
    ['user@example-.org', /invalid label/],
    ['user@exa_mple.org', /may only contain/],
    ['user@exa%41mple.org', /may only contain/],
    ['user@exa mple.org', /may only contain|not a valid/],
    ['user@example.org.', /empty label/],
    ['user@192.0.2.1', /looks like an IP address/],
    ['user@[300.1.1.1]', /not a valid address literal/],
    ['user@xn--zz.org', /not a valid international domain/],
    [`user@${'a'.repeat(64)}.org`, /label is longer than 63/],
    [`user@${Array.from({ length: 60 }, () => 'abcd').join('.')}.org`, /domain is longer than 255|is longer than 254/],
    [`${'a'.repeat(64)}@${Array.from({ length: 40 }, () => 'abcd').join('.')}.org`, /is longer than 254 octets/],
    ['user@example.org\r\nBcc: victim@example.org', /control character/],
    ['user\n@example.org', /control character/],
    ['user@exam\tple.org', /control character/],
    ['us\u0000er@example.org', /control character/],
    ['user\u2028@example.org', /control character/],
    ['user\u202e@example.org', /control character/],
    ['us\u0085er@example.org', /control character/],
  ])('refuses %j', (input, problem) => {
    const result = parseAddress(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });

  it('refuses any text with a control character, wherever it is', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 0x1f }), fc.string(), (before, code, after) => {
        expect(parseAddress(`${before}${String.fromCharCode(code)}${after}@example.org`).ok).toBe(false);
        expect(parseAddress(`user@example${before}${String.fromCharCode(code)}${after}.org`).ok).toBe(false);
      }),
    );
  });

  it('is idempotent and blind to the case of the domain', () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~é]{1,10}$/);
    const label = fc.stringMatching(/^[a-z0-9ü](?:[a-z0-9ü-]{0,8}[a-z0-9ü])?$/);
    fc.assert(
      fc.property(fc.array(atom, { minLength: 1, maxLength: 3 }), fc.array(label, { minLength: 1, maxLength: 3 }), (atoms, labels) => {
        const first = parseAddress(`${atoms.join('.')}@${labels.join('.')}.Org`);
        if (!first.ok) return;
        expect(parseAddress(first.address)).toEqual(first);
        const at = first.address.lastIndexOf('@');
        expect(parseAddress(`${first.address.slice(0, at)}@${first.address.slice(at + 1).toUpperCase()}`)).toEqual(first);
      }),
    );
  });
});

describe('parseAddress in plain words', () => {
  it('tells a person without the @ what an address looks like, without jargon like "local-part@domain"', () => {
    const refused = parseAddress('plainaddress');
    expect(refused).toMatchObject({ ok: false, problem: expect.stringContaining('like you@example.org') });
    expect(JSON.stringify(refused)).not.toMatch(/local-part/);
  });
});

describe('normaliseName', () => {
  it.each([
    [undefined, null],
    [null, null],
    ['', null],
    ['   ', null],
    ['  Olena   Kovalenko ', 'Olena Kovalenko'],
    ['Jose\u0301', 'Jos\u00e9'],
    ['<script>alert(1)</script>', '<script>alert(1)</script>'],
  ])('turns %j into %j', (input, name) => {
    expect(normaliseName(input)).toEqual({ ok: true, name });
  });

  it.each(['Evil\r\nBcc: x@example.org', 'Tab\there', 'Nul\u0000', 'Bidi\u202eevil', 'x'.repeat(201)])('refuses %j', (input) => {
    expect(normaliseName(input).ok).toBe(false);
  });
});
