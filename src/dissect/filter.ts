// Selecting events: --pv GLOB, --command NAME[,NAME], --host ADDR, --port N.

import { MESSAGE_TYPES, TYPE_CODES } from '../../protocols/ca/messages.js';
import type { DissectOptions } from './options.js';
import { parseIp } from '../../protocols/ca/ip.js';
import type { CaEvent } from './event.js';

export interface EventFilterSpec {
  /** glob(s) on the PV name: * any run, ? one character */
  pv?: string[];
  /** message class names, e.g. ReadNotifyResponse */
  command?: string[];
  /** IPv4 address that is source or destination */
  host?: string[];
  /** port that is source or destination */
  port?: number[];
}

export class FilterError extends Error {
  override name = 'FilterError';
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** A predicate for the spec, or undefined when it selects everything. Throws FilterError on unknown names. */
export function eventFilter(spec: EventFilterSpec): ((ev: CaEvent) => boolean) | undefined {
  const tests: ((ev: CaEvent) => boolean)[] = [];
  if (spec.pv?.length) {
    const res = spec.pv.map(globToRegExp);
    tests.push((ev) => ev.pv !== undefined && res.some((re) => re.test(ev.pv!)));
  }
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
  if (spec.host?.length) {
    const ips = new Set(
      spec.host.map((h) => {
        const ip = parseIp(h);
        if (ip < 0) throw new FilterError(`--host wants an IPv4 address, not '${h}'`);
        return ip;
      }),
    );
    tests.push((ev) => ips.has(ev.srcIp) || ips.has(ev.dstIp));
  }
  if (spec.port?.length) {
    const ports = new Set(spec.port);
    tests.push((ev) => ports.has(ev.sport) || ports.has(ev.dport));
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
