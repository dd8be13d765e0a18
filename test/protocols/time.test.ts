import { describe, it, expect } from 'vitest';
import { EPICS_EPOCH_UNIX, epicsTimeToIso, epicsToUnixSeconds, unixTimeToIso } from '../../protocols/ca/time.js';

describe('EPICS time', () => {
  it('the epoch is 1990-01-01T00:00:00Z', () => {
    expect(EPICS_EPOCH_UNIX).toBe(Date.UTC(1990, 0, 1) / 1000);
    expect(epicsTimeToIso(0, 0)).toBe('1990-01-01T00:00:00.000000000Z');
  });

  it('prints all nine fraction digits', () => {
    // The DBR_TIME_DOUBLE stamp of cashark catest.pcap frame 11, captured at Unix 1409532600.2499
    // (2014-09-01T00:50:00.25Z): 778380599 + 631152000 = 1409532599 = 2014-09-01T00:49:59Z.
    expect(Date.UTC(2014, 8, 1, 0, 49, 59) / 1000 - EPICS_EPOCH_UNIX).toBe(778380599);
    expect(epicsTimeToIso(778380599, 825870358)).toBe('2014-09-01T00:49:59.825870358Z');
    expect(epicsTimeToIso(778380599, 1)).toBe('2014-09-01T00:49:59.000000001Z');
    expect(epicsTimeToIso(0xffffffff, 999999999)).toBe('2126-02-07T06:28:15.999999999Z');
  });

  it('carries an out-of-range nsec into the seconds', () => {
    expect(epicsTimeToIso(0, 1_500_000_000)).toBe('1990-01-01T00:00:01.500000000Z');
    expect(epicsTimeToIso(59, 0xffffffff)).toBe('1990-01-01T00:01:03.294967295Z');
  });

  it('converts to Unix seconds', () => {
    expect(epicsToUnixSeconds(778380599, 500_000_000)).toBe(1409532599.5);
    expect(epicsToUnixSeconds(0, 0)).toBe(631152000);
  });
});

describe('unixTimeToIso', () => {
  it('agrees with Date for every day boundary and leap day from 1970 to 2110', () => {
    for (let sec = 0; sec < 4_400_000_000; sec += 86_399 * 7 + 13) {
      expect(unixTimeToIso(sec, 7)).toBe(new Date(sec * 1000).toISOString().replace('.000Z', '.000000007Z'));
    }
    expect(unixTimeToIso(951782400, 0)).toBe('2000-02-29T00:00:00.000000000Z');
  });
});
