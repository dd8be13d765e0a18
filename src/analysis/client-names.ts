// Who a client is to an EPICS engineer (--by host, --by user): its host (the IP,
// without the ephemeral port), and the CA user and host names it sent on its
// circuits (CLIENT_NAME and HOST_NAME, notes §6), as user@host.

import { ipToString } from '../../protocols/ca/ip.js';
import type { CaEvent } from '../dissect/event.js';

/** What a client row is grouped by: its ip:port ('socket', the default), its host, or its CA user@host. */
export type ClientGrouping = 'socket' | 'host' | 'user';

/** The label of a client whose names were not seen. */
export const UNKNOWN_USER = '?';

/** The host of an ip:port. */
export const hostOf = (client: string): string => {
  const colon = client.lastIndexOf(':');
  return colon < 0 ? client : client.slice(0, colon);
};

/** The CA names each circuit's client sent, and so each client host's (structured-clone-able). */
export interface ClientNameTable {
  /** circuit id -> user@host */
  circuits: Map<number, string>;
  /** client IP (dotted) -> user@host of every circuit of that host, in the order seen, without repeats */
  hosts: Map<string, string[]>;
}

/** user@host, with '?' for a name not sent. */
const label = (user: string | undefined, host: string | undefined): string => `${user ?? UNKNOWN_USER}@${host ?? UNKNOWN_USER}`;

/** Collects the names from the events (HostNameRequest and ClientNameRequest are always delivered: the circuit state reads them). */
export class ClientNames {
  private readonly byCircuit = new Map<number, { ip: number; user?: string; host?: string }>();

  event(ev: CaEvent): void {
    const c = ev.circuit;
    if (!c) return;
    const type = ev.command.type;
    if (type !== 'HostNameRequest' && type !== 'ClientNameRequest') return;
    let names = this.byCircuit.get(c.id);
    if (!names) this.byCircuit.set(c.id, (names = { ip: c.clientIp }));
    const name = (ev.command as unknown as { name: string }).name;
    if (type === 'HostNameRequest') names.host = name;
    else names.user = name;
  }

  table(): ClientNameTable {
    const circuits = new Map<number, string>();
    const hosts = new Map<string, string[]>();
    for (const [id, n] of this.byCircuit) {
      const l = label(n.user, n.host);
      circuits.set(id, l);
      const ip = ipToString(n.ip);
      const list = hosts.get(ip) ?? [];
      if (!list.includes(l)) list.push(l);
      hosts.set(ip, list);
    }
    return { circuits, hosts };
  }
}

/** The user@host of a client ip:port with no circuit (a search): what its host sent on any circuit, else '?'. */
export function userOfHost(table: ClientNameTable, client: string): string {
  const list = table.hosts.get(hostOf(client));
  return list ? list.join(',') : UNKNOWN_USER;
}

/** The user@host of a circuit, else that of its client's host. */
export function userOfCircuit(table: ClientNameTable, circuit: number | undefined, client: string): string {
  return (circuit === undefined ? undefined : table.circuits.get(circuit)) ?? userOfHost(table, client);
}

/** A client ip:port grouped as asked. */
export function clientGroup(table: ClientNameTable | undefined, by: ClientGrouping, client: string, circuit?: number): string {
  if (by === 'host') return hostOf(client);
  if (by === 'user') return table ? userOfCircuit(table, circuit, client) : UNKNOWN_USER;
  return client;
}
