import { describe, expect, it } from 'vitest';
import { englishZoneName, zoneNamesFor } from '../src/zone-names.js';

const summer = new Date('2025-07-23T18:00:00Z');
const winter = new Date('2025-01-23T18:00:00Z');

describe('zone names', () => {
  it('names a zone as any English locale does, before an offset', () => {
    expect(englishZoneName(summer, 'Europe/Kyiv')).toBe('EEST');
    expect(englishZoneName(summer, 'Europe/London')).toBe('BST');
    expect(englishZoneName(winter, 'Europe/London')).toBe('GMT');
    expect(englishZoneName(summer, 'America/New_York')).toBe('EDT');
    expect(englishZoneName(summer, 'UTC')).toBe('UTC');
    // No English locale names it: the offset stays.
    expect(englishZoneName(summer, 'Asia/Tokyo')).toBe('GMT+9');
  });

  it('puts the English name in place of an offset in English text, as Intl writes it for "en"', () => {
    const named = zoneNamesFor('en', 'Europe/London');
    const text = new Intl.DateTimeFormat('en', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(summer);
    expect(text).toMatch(/GMT\+1$/);
    expect(named(text, summer)).toBe(text.replace('GMT+1', 'BST'));
    expect(zoneNamesFor('en-US', 'Europe/Kyiv')('Wed, 9:00 PM GMT+3', summer)).toBe('Wed, 9:00 PM EEST');
  });

  it('leaves other languages their own form, and English text without an offset as it is', () => {
    expect(zoneNamesFor('fr', 'Europe/Paris')('23 juil. 2025, 20:00 UTC+2', summer)).toBe('23 juil. 2025, 20:00 UTC+2');
    expect(zoneNamesFor('uk', 'Europe/Kyiv')('23 лип. 2025 р., 21:00 GMT+3', summer)).toBe('23 лип. 2025 р., 21:00 GMT+3');
    expect(zoneNamesFor('en-GB', 'Europe/Kyiv')('23 Jul 2025, 21:00 EEST', summer)).toBe('23 Jul 2025, 21:00 EEST');
    expect(zoneNamesFor('en', 'Asia/Tokyo')('Jul 24, 2025, 03:00 AM GMT+9', summer)).toBe('Jul 24, 2025, 03:00 AM GMT+9');
    expect(zoneNamesFor('en', 'Asia/Kolkata')('Wed, 11:30 PM GMT+5:30', summer)).toBe('Wed, 11:30 PM GMT+5:30');
  });
});
