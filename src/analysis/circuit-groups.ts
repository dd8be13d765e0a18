// Circuits totalled per client host or per CA user@host (`cawire circuits --by host|user`).

import { clientGroup, hostOf, type ClientGrouping } from './client-names.js';
import type { Instant } from '../dissect/circuits.js';
import type { CircuitSummary } from './circuits.js';

export interface CircuitGroup {
  /** the client host (ip), or user@host ('?' for a name the circuit did not send) */
  group: string;
  circuits: number;
  /** client sockets (ip:port) and servers, in order of first circuit */
  clients: string[];
  servers: string[];
  /** earliest circuit start */
  start: number;
  startAt: Instant;
  firstFrame?: number;
  channelsCreated: number;
  subscriptions: number;
  updates: number;
  caBytesToServer: number;
  caBytesToClient: number;
  retransmissions: number;
  gaps: number;
  endedByRst: number;
  openAtEnd: number;
}

/** The group of a circuit: its client's host, or the names it sent as user@host. */
function groupOf(c: CircuitSummary, by: ClientGrouping): string {
  if (by === 'user') return `${c.userName ?? '?'}@${c.hostName ?? '?'}`;
  return by === 'host' ? hostOf(c.client) : clientGroup(undefined, by, c.client);
}

/** One row per group, most circuits first (ties: group name). */
export function circuitGroups(circuits: readonly CircuitSummary[], by: ClientGrouping): CircuitGroup[] {
  const groups = new Map<string, CircuitGroup>();
  for (const c of circuits) {
    const key = groupOf(c, by);
    let g = groups.get(key);
    if (!g) {
      g = { group: key, circuits: 0, clients: [], servers: [], start: c.start, startAt: c.startAt, firstFrame: c.startFrame, channelsCreated: 0, subscriptions: 0, updates: 0, caBytesToServer: 0, caBytesToClient: 0, retransmissions: 0, gaps: 0, endedByRst: 0, openAtEnd: 0 };
      groups.set(key, g);
    }
    g.circuits++;
    if (!g.clients.includes(c.client)) g.clients.push(c.client);
    if (!g.servers.includes(c.server)) g.servers.push(c.server);
    if (c.start < g.start) [g.start, g.startAt, g.firstFrame] = [c.start, c.startAt, c.startFrame];
    g.channelsCreated += c.created.length;
    g.subscriptions += c.subscriptions;
    g.updates += c.updates;
    g.caBytesToServer += c.caBytesToServer;
    g.caBytesToClient += c.caBytesToClient;
    g.retransmissions += c.retransmissions;
    g.gaps += c.gaps;
    if (c.endedBy === 'rst') g.endedByRst++;
    if (c.endedBy === undefined) g.openAtEnd++;
  }
  return [...groups.values()].sort((a, b) => b.circuits - a.circuits || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
