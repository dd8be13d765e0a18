// ECA status codes (ca-protocol-notes §7, epics-base caerr.h).
//
// Status word = (message number << 3) | severity; bit 0 set = success.
// Names are looked up by message number alone, ignoring the severity bits: old
// servers may send a known number with another severity, and the notes say to
// print by number. A word whose number is beyond the table (> 60) or that has
// bits above the 16-bit status field is shown raw as `ECA_${status}`.

const MESSAGE_MASK = 0xfff8;
const MESSAGE_SHIFT = 3;
const SEVERITY_MASK = 0x7;
const SUCCESS_BIT = 0x1;

// Severity codes (CA_K_*); 6 = FATAL = ERROR | SEVERE; 5 and 7 are not defined.
const SEVERITY_NAMES: Readonly<Record<number, string>> = {
  0: 'WARNING',
  1: 'SUCCESS',
  2: 'ERROR',
  3: 'INFO',
  4: 'SEVERE',
  6: 'FATAL',
};

export const ECA_NORMAL = 0x001;
export const ECA_MAXIOC = 0x00a;
export const ECA_UKNHOST = 0x012;
export const ECA_UKNSERV = 0x01a;
export const ECA_SOCK = 0x022;
export const ECA_CONN = 0x028;
export const ECA_ALLOCMEM = 0x030;
export const ECA_UKNCHAN = 0x038;
export const ECA_UKNFIELD = 0x040;
export const ECA_TOLARGE = 0x048;
export const ECA_TIMEOUT = 0x050;
export const ECA_NOSUPPORT = 0x058;
export const ECA_STRTOBIG = 0x060;
export const ECA_DISCONNCHID = 0x06a;
export const ECA_BADTYPE = 0x072;
export const ECA_CHIDNOTFND = 0x07b;
export const ECA_CHIDRETRY = 0x083;
export const ECA_INTERNAL = 0x08e;
export const ECA_DBLCLFAIL = 0x090;
export const ECA_GETFAIL = 0x098;
export const ECA_PUTFAIL = 0x0a0;
export const ECA_ADDFAIL = 0x0a8;
export const ECA_BADCOUNT = 0x0b0;
export const ECA_BADSTR = 0x0ba;
export const ECA_DISCONN = 0x0c0;
export const ECA_DBLCHNL = 0x0c8;
export const ECA_EVDISALLOW = 0x0d2;
export const ECA_BUILDGET = 0x0d8;
export const ECA_NEEDSFP = 0x0e0;
export const ECA_OVEVFAIL = 0x0e8;
export const ECA_BADMONID = 0x0f2;
export const ECA_NEWADDR = 0x0f8;
export const ECA_NEWCONN = 0x103;
export const ECA_NOCACTX = 0x108;
export const ECA_DEFUNCT = 0x116;
export const ECA_EMPTYSTR = 0x118;
export const ECA_NOREPEATER = 0x120;
export const ECA_NOCHANMSG = 0x128;
export const ECA_DLCKREST = 0x130;
export const ECA_SERVBEHIND = 0x138;
export const ECA_NOCAST = 0x140;
export const ECA_BADMASK = 0x14a;
export const ECA_IODONE = 0x153;
export const ECA_IOINPROGRESS = 0x15b;
export const ECA_BADSYNCGRP = 0x162;
export const ECA_PUTCBINPROG = 0x16a;
export const ECA_NORDACCESS = 0x170;
export const ECA_NOWTACCESS = 0x178;
export const ECA_ANACHRONISM = 0x182;
export const ECA_NOSEARCHADDR = 0x188;
export const ECA_NOCONVERT = 0x190;
export const ECA_BADCHID = 0x19a;
export const ECA_BADFUNCPTR = 0x1a2;
export const ECA_ISATTACHED = 0x1a8;
export const ECA_UNAVAILINSERV = 0x1b0;
export const ECA_CHANDESTROY = 0x1b8;
export const ECA_BADPRIORITY = 0x1c2;
export const ECA_NOTTHREADED = 0x1ca;
export const ECA_16KARRAYCLIENT = 0x1d0;
export const ECA_CONNSEQTMO = 0x1d8;
export const ECA_UNRESPTMO = 0x1e0;

// Index = message number. Descriptions are ours; "(obsolete)" marks codes that
// caerr.h lists as defunct but that old servers may still send.
const ECA_TABLE: readonly (readonly [name: string, status: number, description: string])[] = [
  ['ECA_NORMAL', ECA_NORMAL, 'success'],
  ['ECA_MAXIOC', ECA_MAXIOC, 'too many server connections (obsolete)'],
  ['ECA_UKNHOST', ECA_UKNHOST, 'unknown host (obsolete)'],
  ['ECA_UKNSERV', ECA_UKNSERV, 'unknown service (obsolete)'],
  ['ECA_SOCK', ECA_SOCK, 'could not create a socket (obsolete)'],
  ['ECA_CONN', ECA_CONN, 'could not connect to the host (obsolete)'],
  ['ECA_ALLOCMEM', ECA_ALLOCMEM, 'server out of memory'],
  ['ECA_UKNCHAN', ECA_UKNCHAN, 'unknown channel (obsolete)'],
  ['ECA_UKNFIELD', ECA_UKNFIELD, 'field not valid for this channel (obsolete)'],
  ['ECA_TOLARGE', ECA_TOLARGE, 'transfer larger than the array-bytes limit'],
  ['ECA_TIMEOUT', ECA_TIMEOUT, 'operation timed out'],
  ['ECA_NOSUPPORT', ECA_NOSUPPORT, 'feature not supported (obsolete)'],
  ['ECA_STRTOBIG', ECA_STRTOBIG, 'string too long (obsolete)'],
  ['ECA_DISCONNCHID', ECA_DISCONNCHID, 'channel is disconnected (obsolete)'],
  ['ECA_BADTYPE', ECA_BADTYPE, 'invalid DBR type'],
  ['ECA_CHIDNOTFND', ECA_CHIDNOTFND, 'channel not found (obsolete)'],
  ['ECA_CHIDRETRY', ECA_CHIDRETRY, 'some channels not found yet (obsolete)'],
  ['ECA_INTERNAL', ECA_INTERNAL, 'internal failure or misaligned request'],
  ['ECA_DBLCLFAIL', ECA_DBLCLFAIL, 'local database operation failed (obsolete)'],
  ['ECA_GETFAIL', ECA_GETFAIL, 'get failed'],
  ['ECA_PUTFAIL', ECA_PUTFAIL, 'put failed'],
  ['ECA_ADDFAIL', ECA_ADDFAIL, 'subscription failed (obsolete)'],
  ['ECA_BADCOUNT', ECA_BADCOUNT, 'bad element count'],
  ['ECA_BADSTR', ECA_BADSTR, 'invalid string'],
  ['ECA_DISCONN', ECA_DISCONN, 'circuit dropped'],
  ['ECA_DBLCHNL', ECA_DBLCHNL, 'same PV on several servers'],
  ['ECA_EVDISALLOW', ECA_EVDISALLOW, 'call not allowed inside a monitor callback'],
  ['ECA_BUILDGET', ECA_BUILDGET, 'get during search failed (obsolete)'],
  ['ECA_NEEDSFP', ECA_NEEDSFP, 'task lacks floating-point support (obsolete)'],
  ['ECA_OVEVFAIL', ECA_OVEVFAIL, 'event queue overflow lost the first update (obsolete)'],
  ['ECA_BADMONID', ECA_BADMONID, 'unknown subscription id'],
  ['ECA_NEWADDR', ECA_NEWADDR, 'channel moved to a new address (obsolete)'],
  ['ECA_NEWCONN', ECA_NEWCONN, 'new or resumed connection (obsolete)'],
  ['ECA_NOCACTX', ECA_NOCACTX, 'thread has no CA context (obsolete)'],
  ['ECA_DEFUNCT', ECA_DEFUNCT, 'defunct feature used; peer protocol too old'],
  ['ECA_EMPTYSTR', ECA_EMPTYSTR, 'empty string (obsolete)'],
  ['ECA_NOREPEATER', ECA_NOREPEATER, 'could not start the CA repeater (obsolete)'],
  ['ECA_NOCHANMSG', ECA_NOCHANMSG, 'search reply for no known channel (obsolete)'],
  ['ECA_DLCKREST', ECA_DLCKREST, 'resetting a dead connection (obsolete)'],
  ['ECA_SERVBEHIND', ECA_SERVBEHIND, 'server behind or not responding (obsolete)'],
  ['ECA_NOCAST', ECA_NOCAST, 'no broadcast-capable interface (obsolete)'],
  ['ECA_BADMASK', ECA_BADMASK, 'bad event mask'],
  ['ECA_IODONE', ECA_IODONE, 'I/O operations completed'],
  ['ECA_IOINPROGRESS', ECA_IOINPROGRESS, 'I/O operations in progress'],
  ['ECA_BADSYNCGRP', ECA_BADSYNCGRP, 'bad synchronous group id'],
  ['ECA_PUTCBINPROG', ECA_PUTCBINPROG, 'put callback timed out or was cancelled'],
  ['ECA_NORDACCESS', ECA_NORDACCESS, 'no read access'],
  ['ECA_NOWTACCESS', ECA_NOWTACCESS, 'no write access'],
  ['ECA_ANACHRONISM', ECA_ANACHRONISM, 'feature no longer supported'],
  ['ECA_NOSEARCHADDR', ECA_NOSEARCHADDR, 'empty search address list'],
  ['ECA_NOCONVERT', ECA_NOCONVERT, 'no sensible type conversion'],
  ['ECA_BADCHID', ECA_BADCHID, 'bad channel id'],
  ['ECA_BADFUNCPTR', ECA_BADFUNCPTR, 'bad function pointer'],
  ['ECA_ISATTACHED', ECA_ISATTACHED, 'thread already attached to a context'],
  ['ECA_UNAVAILINSERV', ECA_UNAVAILINSERV, 'not supported by the service'],
  ['ECA_CHANDESTROY', ECA_CHANDESTROY, 'channel destroyed by the user'],
  ['ECA_BADPRIORITY', ECA_BADPRIORITY, 'bad channel priority'],
  ['ECA_NOTTHREADED', ECA_NOTTHREADED, 'context does not allow other threads to join'],
  ['ECA_16KARRAYCLIENT', ECA_16KARRAYCLIENT, 'peer too old for messages over 16 kB'],
  ['ECA_CONNSEQTMO', ECA_CONNSEQTMO, 'circuit connect sequence timed out'],
  ['ECA_UNRESPTMO', ECA_UNRESPTMO, 'circuit unresponsive'],
];

/** Message number (bits 3..15). */
export function ecaMessageNumber(status: number): number {
  return (status & MESSAGE_MASK) >>> MESSAGE_SHIFT;
}

function entryOf(status: number) {
  const known = Number.isInteger(status) && status >= 0 && status <= 0xffff;
  return known ? ECA_TABLE[ecaMessageNumber(status)] : undefined;
}

/** 'ECA_NORMAL', 'ECA_PUTFAIL', …; by message number; unknown words as `ECA_${status}`. */
export function ecaName(status: number): string {
  return entryOf(status)?.[0] ?? `ECA_${status}`;
}

/** 'WARNING', 'SUCCESS', 'ERROR', 'INFO', 'SEVERE', 'FATAL'; undefined codes 5 and 7 as the number. */
export function ecaSeverityName(status: number): string {
  const severity = status & SEVERITY_MASK;
  return SEVERITY_NAMES[severity] ?? String(severity);
}

/** Short meaning of the code; 'unknown status code' beyond the table. */
export function ecaDescription(status: number): string {
  return entryOf(status)?.[2] ?? 'unknown status code';
}

export function ecaIsSuccess(status: number): boolean {
  return (status & SUCCESS_BIT) !== 0;
}
