// Alarm severity and status (condition) names (ca-protocol-notes §6.4, epics-base alarm.h).

const SEVERITY_NAMES: readonly string[] = ['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'];

// Index = alarm status code.
const STATUS_NAMES: readonly string[] = [
  'NO_ALARM',
  'READ',
  'WRITE',
  'HIHI',
  'HIGH',
  'LOLO',
  'LOW',
  'STATE',
  'COS',
  'COMM',
  'TIMEOUT',
  'HWLIMIT',
  'CALC',
  'SCAN',
  'LINK',
  'SOFT',
  'BAD_SUB',
  'UDF',
  'DISABLE',
  'SIMM',
  'READ_ACCESS',
  'WRITE_ACCESS',
];

function lookup(names: readonly string[], n: number): string {
  return (Number.isInteger(n) && n >= 0 ? names[n] : undefined) ?? String(n);
}

/** 'NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'; anything else as the number. */
export function alarmSeverityName(n: number): string {
  return lookup(SEVERITY_NAMES, n);
}

/** 'NO_ALARM' … 'WRITE_ACCESS' (0..21); anything else as the number. */
export function alarmStatusName(n: number): string {
  return lookup(STATUS_NAMES, n);
}
