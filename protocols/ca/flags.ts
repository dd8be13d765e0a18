// Bit-flag words: ACCESS_RIGHTS p2 (ca-protocol-notes §4) and the EVENT_ADD event mask (DBE_*).

interface FlagBit {
  bit: number;
  name: string;
}

const ACCESS_RIGHTS_BITS: readonly FlagBit[] = [
  { bit: 0x1, name: 'READ' },
  { bit: 0x2, name: 'WRITE' },
];

const EVENT_MASK_BITS: readonly FlagBit[] = [
  { bit: 0x1, name: 'VALUE' },
  { bit: 0x2, name: 'LOG' },
  { bit: 0x4, name: 'ALARM' },
  { bit: 0x8, name: 'PROPERTY' },
];

/** Names of the set bits joined by '|'; 'NONE' for 0; unnamed bits as one hex number. */
function flagNames(bits: readonly FlagBit[], word: number): string {
  const value = word >>> 0;
  const names = bits.filter(({ bit }) => (value & bit) !== 0).map(({ name }) => name);
  const unnamed = bits.reduce((rest, { bit }) => rest & ~bit, value) >>> 0;
  if (unnamed !== 0) names.push(`0x${unnamed.toString(16)}`);
  return names.length > 0 ? names.join('|') : 'NONE';
}

/** 'NONE', 'READ', 'WRITE', 'READ|WRITE'. */
export function accessRightsName(r: number): string {
  return flagNames(ACCESS_RIGHTS_BITS, r);
}

/** e.g. 'VALUE|ALARM' for 5 (DBE_VALUE 1, DBE_LOG 2, DBE_ALARM 4, DBE_PROPERTY 8). */
export function eventMaskNames(mask: number): string {
  return flagNames(EVENT_MASK_BITS, mask);
}
