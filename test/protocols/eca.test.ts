import { describe, it, expect } from 'vitest';
import * as eca from '../../protocols/ca/eca.js';
import {
  ECA_BADTYPE,
  ECA_NORMAL,
  ECA_NORDACCESS,
  ECA_PUTFAIL,
  ECA_UNRESPTMO,
  ecaDescription,
  ecaIsSuccess,
  ecaMessageNumber,
  ecaName,
  ecaSeverityName,
} from '../../protocols/ca/eca.js';

/** Every exported ECA_* constant, by name. */
const CONSTANTS = Object.entries(eca as Record<string, unknown>).filter((e): e is [string, number] => e[0].startsWith('ECA_') && typeof e[1] === 'number');

describe('ECA status codes', () => {
  it('names the common codes', () => {
    expect(ecaName(1)).toBe('ECA_NORMAL');
    expect(ecaName(160)).toBe('ECA_PUTFAIL');
    expect(ecaName(0x170)).toBe('ECA_NORDACCESS');
    expect(ecaName(0x1e0)).toBe('ECA_UNRESPTMO');
    expect(ecaName(0x08e)).toBe('ECA_INTERNAL');
    expect([ECA_NORMAL, ECA_PUTFAIL, ECA_NORDACCESS, ECA_UNRESPTMO, ECA_BADTYPE]).toEqual([1, 160, 0x170, 0x1e0, 0x72]);
  });

  it('names by message number even when an old server sends another severity', () => {
    expect(ecaName((20 << 3) | 2)).toBe('ECA_PUTFAIL');
    expect(ecaName(0x1d9)).toBe('ECA_CONNSEQTMO'); // the community document's typo value
  });

  it('shows unknown codes raw', () => {
    expect(ecaName(61 << 3)).toBe('ECA_488');
    expect(ecaName(0xfff8)).toBe('ECA_65528');
    expect(ecaName(0x10001)).toBe('ECA_65537');
    expect(ecaName(-1)).toBe('ECA_-1');
    expect(ecaDescription(61 << 3)).toBe('unknown status code');
  });

  it('splits the status word into message number and severity', () => {
    expect(ecaMessageNumber(ECA_PUTFAIL)).toBe(20);
    expect(ecaMessageNumber(0x1e0)).toBe(60);
    expect(ecaMessageNumber(ECA_NORMAL)).toBe(0);
    expect(ecaSeverityName(1)).toBe('SUCCESS');
    expect(ecaSeverityName(160)).toBe('WARNING');
    expect(ecaSeverityName(0x0ba)).toBe('ERROR');
    expect(ecaSeverityName(0x153)).toBe('INFO');
    expect(ecaSeverityName(0x004)).toBe('SEVERE');
    expect(ecaSeverityName(0x08e)).toBe('FATAL');
    expect(ecaSeverityName(0x005)).toBe('5');
    expect(ecaSeverityName(0x007)).toBe('7');
  });

  it('success is bit 0', () => {
    expect(ecaIsSuccess(ECA_NORMAL)).toBe(true);
    expect(ecaIsSuccess(0x153)).toBe(true); // ECA_IODONE, INFO
    expect(ecaIsSuccess(ECA_PUTFAIL)).toBe(false);
    expect(ecaIsSuccess(ECA_NORDACCESS)).toBe(false);
  });

  it('describes codes', () => {
    expect(ecaDescription(ECA_PUTFAIL)).toBe('put failed');
    expect(ecaDescription(0x170)).toBe('no read access');
    expect(ecaDescription(0x1d0)).toBe('peer too old for messages over 16 kB');
  });

  it('exports one constant per message number 0..60, each named and described by the table', () => {
    expect(CONSTANTS).toHaveLength(61);
    const numbers = CONSTANTS.map(([, value]) => ecaMessageNumber(value)).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 61 }, (_, i) => i));
    for (const [name, value] of CONSTANTS) {
      expect(ecaName(value)).toBe(name);
      expect(ecaDescription(value)).not.toBe('unknown status code');
      expect(['WARNING', 'SUCCESS', 'ERROR', 'INFO', 'FATAL']).toContain(ecaSeverityName(value));
    }
  });

  it('matches the values of ca-protocol-notes §7 where the community document has typos', () => {
    expect(eca.ECA_CONNSEQTMO).toBe(0x1d8);
    expect(eca.ECA_DEFUNCT).toBe(0x116);
    expect(eca.ECA_16KARRAYCLIENT).toBe(0x1d0);
    expect(eca.ECA_CHIDNOTFND).toBe(0x07b);
  });
});
