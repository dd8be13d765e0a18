import { describe, it, expect } from 'vitest';
import { accessRightsName, eventMaskNames } from '../../protocols/ca/flags.js';

describe('flag words', () => {
  it('names access rights', () => {
    expect([0, 1, 2, 3].map(accessRightsName)).toEqual(['NONE', 'READ', 'WRITE', 'READ|WRITE']);
    expect(accessRightsName(0x13)).toBe('READ|WRITE|0x10');
  });

  it('names event mask bits', () => {
    expect(eventMaskNames(5)).toBe('VALUE|ALARM');
    expect(eventMaskNames(0xf)).toBe('VALUE|LOG|ALARM|PROPERTY');
    expect(eventMaskNames(8)).toBe('PROPERTY');
    expect(eventMaskNames(0)).toBe('NONE');
    expect(eventMaskNames(0x105)).toBe('VALUE|ALARM|0x100');
  });
});
