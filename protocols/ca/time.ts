// EPICS time stamps (ca-protocol-notes §6.4): u32 seconds since 1990-01-01T00:00:00Z + u32 nsec.

/** Unix time of the EPICS epoch, 1990-01-01T00:00:00Z. */
export const EPICS_EPOCH_UNIX = 631152000;

const NS_PER_SECOND = 1_000_000_000;

export function epicsToUnixSeconds(sec: number, nsec: number): number {
  return sec + EPICS_EPOCH_UNIX + nsec / NS_PER_SECOND;
}

/**
 * ISO 8601 UTC with all nine fraction digits, e.g. '2014-08-31T23:29:59.825870358Z'.
 * Both inputs are taken as the u32 words they are on the wire (`>>> 0`: NaN -> 0).
 * An out-of-range nsec (> 999,999,999, which no conforming sender produces) is
 * carried into the seconds, so the result is always a valid time string.
 */
export function epicsTimeToIso(sec: number, nsec: number): string {
  const ns = nsec >>> 0;
  const unixSeconds = (sec >>> 0) + EPICS_EPOCH_UNIX + Math.floor(ns / NS_PER_SECOND);
  const whole = new Date(unixSeconds * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  return `${whole}.${String(ns % NS_PER_SECOND).padStart(9, '0')}Z`;
}
