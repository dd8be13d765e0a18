// IPv4 addresses as CA carries them: u32 in network order (search replies, beacons).

const cache = new Map<number, string>();

/** Dotted quad of a u32 address; results are cached (captures hold few distinct hosts). */
export function ipToString(ip: number): string {
  let s = cache.get(ip);
  if (s === undefined) {
    s = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
    if (cache.size < 65536) cache.set(ip, s);
  }
  return s;
}

/** u32 of a dotted quad, or -1 when it is not one. */
export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return -1;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return -1;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
