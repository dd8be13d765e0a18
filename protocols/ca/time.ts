// EPICS time stamps (ca-protocol-notes §6.4): u32 seconds since 1990-01-01T00:00:00Z + u32 nsec.

/** Unix time of the EPICS epoch, 1990-01-01T00:00:00Z. */
export const EPICS_EPOCH_UNIX = 631152000;

const NS_PER_SECOND = 1_000_000_000;

export function epicsToUnixSeconds(sec: number, nsec: number): number {
  return sec + EPICS_EPOCH_UNIX + nsec / NS_PER_SECOND;
}

let cachedSecond = NaN;
let cachedPrefix = '';

/**
 * ISO 8601 UTC with all nine fraction digits for Unix seconds + nanoseconds,
 * e.g. '2014-09-01T00:49:59.825870358Z'. Consecutive calls mostly fall in the
 * same second, whose date text is kept.
 */
export function unixTimeToIso(sec: number, nsec: number): string {
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = isoSecond(sec);
  }
  return `${cachedPrefix}.${String(nsec).padStart(9, '0')}Z`;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** YYYY-MM-DDTHH:MM:SS of Unix seconds, by the days-to-civil algorithm (H. Hinnant); no Date object. */
export function isoSecond(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rest = sec - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(h)}:${two(m)}:${two(rest % 60)}`;
}

/**
 * The Unix seconds and the nanoseconds of an EPICS time stamp. Both inputs are
 * taken as the u32 words they are on the wire (`>>> 0`: NaN -> 0). An
 * out-of-range nsec (> 999,999,999, which no conforming sender produces) is
 * carried into the seconds, so the result is always a valid time.
 */
export function epicsStampUnixSeconds(sec: number, nsec: number): number {
  const ns = nsec >>> 0;
  return (sec >>> 0) + EPICS_EPOCH_UNIX + (ns < NS_PER_SECOND ? 0 : Math.floor(ns / NS_PER_SECOND));
}

export function epicsStampNanoseconds(nsec: number): number {
  const ns = nsec >>> 0;
  // The test first: a u32 above 2^31 is a double, and % on doubles is a call (fmod) per stamp.
  return ns < NS_PER_SECOND ? ns : ns % NS_PER_SECOND;
}

/** An EPICS time stamp as ISO 8601 UTC with all nine fraction digits. */
export function epicsTimeToIso(sec: number, nsec: number): string {
  return unixTimeToIso(epicsStampUnixSeconds(sec, nsec), epicsStampNanoseconds(nsec));
}
