// Selecting events, one implementation for every command: --pv GLOB,
// --command NAME[,NAME], --host ADDR|CIDR, --port N, --since/--until (capture
// time, absolute or relative to the capture's first packet) and --duration.

import { MESSAGE_TYPES, TYPE_CODES } from '../../protocols/ca/messages.js';
import type { DissectOptions } from './options.js';
import { parseIp } from '../../protocols/ca/ip.js';
import type { CaEvent } from './event.js';

export interface EventFilterSpec {
  /** glob(s) on the PV name: * any run, ? one character */
  pv?: string[];
  /** message class names, e.g. ReadNotifyResponse */
  command?: string[];
  /** IPv4 address (or CIDR block, 10.9.0.0/16) that is source or destination */
  host?: string[];
  /** port that is source or destination */
  port?: number[];
  /** direction-aware, as mcsd has them: address (or CIDR block) of the source, of the destination; source port, destination port */
  src?: string[];
  dst?: string[];
  sport?: number[];
  dport?: number[];
  /** capture time window [since, until); a bound is Unix seconds or seconds after the capture's first packet */
  since?: TimeBound;
  until?: TimeBound;
  /** seconds of capture time from the first packet (the read stops there) */
  duration?: number;
}

/** A point in capture time: Unix seconds, or seconds after the capture's first packet (`+30s`). */
export type TimeBound = { at: number } | { afterFirst: number };

/** What a time bound is measured against: the dissector's stats (firstTime is NaN until a packet came). */
export interface CaptureClock {
  readonly firstTime: number;
}

/** The window of a spec as [from, to) Unix seconds, once the first packet time is known. */
export function timeWindow(spec: EventFilterSpec, clock: CaptureClock): { from: number; to: number } {
  const at = (b: TimeBound | undefined, none: number): number => (b === undefined ? none : 'at' in b ? b.at : clock.firstTime + b.afterFirst);
  const from = at(spec.since, -Infinity);
  let to = at(spec.until, Infinity);
  if (spec.duration !== undefined) to = Math.min(to, clock.firstTime + spec.duration);
  return { from, to };
}

/** Whether the spec bounds capture time. */
export const hasTimeBounds = (spec: EventFilterSpec): boolean => spec.since !== undefined || spec.until !== undefined || spec.duration !== undefined;

/** A test of a u32 address: an address, or a CIDR block. */
function hostTest(h: string, option = '--host'): (ip: number) => boolean {
  const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(h.trim());
  const ip = m ? parseIp(m[1]!) : -1;
  const bits = m?.[2] === undefined ? 32 : Number(m[2]);
  if (ip < 0 || bits > 32) throw new FilterError(`${option} wants an IPv4 address or CIDR block (10.9.0.0/16), not '${h}'`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const net = (ip & mask) >>> 0;
  return (x) => ((x & mask) >>> 0) === net;
}

/** The spec's endpoint test (--host, --port) on two endpoints, or undefined when it has none. */
export function endpointFilter(spec: EventFilterSpec): ((ipA: number, portA: number, ipB: number, portB: number) => boolean) | undefined {
  const tests: ((ipA: number, portA: number, ipB: number, portB: number) => boolean)[] = [];
  if (spec.host?.length) {
    const hosts = spec.host.map((h) => hostTest(h));
    tests.push((a, _pa, b) => hosts.some((t) => t(a) || t(b)));
  }
  if (spec.port?.length) {
    const ports = new Set(spec.port);
    tests.push((_a, pa, _b, pb) => ports.has(pa) || ports.has(pb));
  }
  if (tests.length === 0) return undefined;
  return (a, pa, b, pb) => tests.every((t) => t(a, pa, b, pb));
}

/** A PV name test for the spec's --pv globs, or undefined when it has none. */
export function pvFilter(spec: EventFilterSpec): ((pv: string | undefined) => boolean) | undefined {
  if (!spec.pv?.length) return undefined;
  const res = spec.pv.map(globToRegExp);
  return (pv) => pv !== undefined && res.some((re) => re.test(pv));
}

export class FilterError extends Error {
  override name = 'FilterError';
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * A predicate for the spec, or undefined when it selects everything. Throws
 * FilterError on unknown names. Time bounds need `clock` (the dissector's stats);
 * without it they select nothing out.
 */
export function eventFilter(spec: EventFilterSpec, clock?: CaptureClock): ((ev: CaEvent) => boolean) | undefined {
  const tests: ((ev: CaEvent) => boolean)[] = [];
  const pv = pvFilter(spec);
  if (pv) tests.push((ev) => pv(ev.pv));
  if (spec.command?.length) {
    const known = new Map(MESSAGE_TYPES.map((t) => [t.toLowerCase(), t]));
    const wanted = new Set(
      spec.command.map((c) => {
        const t = known.get(c.toLowerCase());
        if (!t) throw new FilterError(`unknown command '${c}'; known: ${MESSAGE_TYPES.join(', ')}`);
        return t;
      }),
    );
    tests.push((ev) => wanted.has(ev.type));
  }
  const ends = endpointFilter(spec);
  if (ends) tests.push((ev) => ends(ev.srcIp, ev.sport, ev.dstIp, ev.dport));
  if (spec.src?.length) {
    const srcs = spec.src.map((h) => hostTest(h, '--src'));
    tests.push((ev) => srcs.some((t) => t(ev.srcIp)));
  }
  if (spec.dst?.length) {
    const dsts = spec.dst.map((h) => hostTest(h, '--dst'));
    tests.push((ev) => dsts.some((t) => t(ev.dstIp)));
  }
  if (spec.sport?.length) {
    const ports = new Set(spec.sport);
    tests.push((ev) => ports.has(ev.sport));
  }
  if (spec.dport?.length) {
    const ports = new Set(spec.dport);
    tests.push((ev) => ports.has(ev.dport));
  }
  if (clock && hasTimeBounds(spec)) {
    tests.push((ev) => {
      const { from, to } = timeWindow(spec, clock);
      const t = ev.timestamp;
      return t >= from && t < to;
    });
  }
  if (tests.length === 0) return undefined;
  if (tests.length === 1) return tests[0];
  return (ev) => tests.every((t) => t(ev));
}

/**
 * The TCP messages a --command filter can keep, as DissectOptions.wants (undefined
 * when it keeps any): the others are never made into objects. Names are checked
 * by eventFilter.
 */
export function commandWants(spec: EventFilterSpec): DissectOptions['wants'] {
  if (!spec.command?.length) return undefined;
  const byName = new Map([...TYPE_CODES].map(([type, code]) => [type.toLowerCase(), code]));
  const codes = spec.command.map((c) => byName.get(c.toLowerCase())).filter((c) => c !== undefined);
  return (command, fromClient) => codes.some((c) => c.command === command && (c.fromClient === undefined || c.fromClient === fromClient));
}
