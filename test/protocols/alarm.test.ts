import { describe, it, expect } from 'vitest';
import { alarmSeverityName, alarmStatusName } from '../../protocols/ca/alarm.js';

describe('alarm names', () => {
  it('names severities 0..3 and shows others as numbers', () => {
    expect([0, 1, 2, 3, 4, -1].map(alarmSeverityName)).toEqual(['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID', '4', '-1']);
  });

  it('names status (condition) codes 0..21 and shows others as numbers', () => {
    expect(alarmStatusName(0)).toBe('NO_ALARM');
    expect(alarmStatusName(3)).toBe('HIHI');
    expect(alarmStatusName(7)).toBe('STATE');
    expect(alarmStatusName(16)).toBe('BAD_SUB');
    expect(alarmStatusName(17)).toBe('UDF');
    expect(alarmStatusName(20)).toBe('READ_ACCESS');
    expect(alarmStatusName(21)).toBe('WRITE_ACCESS');
    expect(alarmStatusName(22)).toBe('22');
    expect(alarmStatusName(1.5)).toBe('1.5');
  });
});
