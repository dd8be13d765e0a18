// IOC restarts as a capture shows them, and the circuits the servers closed.
// A restart shows in the beacons (the id going back to a small value, or an IOC
// on an ephemeral TCP port coming back on another port of the same host with a
// fresh id) or in the circuits alone (the server closing every circuit it had at
// once; ca-protocol-notes §9.2). For each client host that had a circuit to the
// IOC when it went: how long until it had one again.

import { hostOf } from './client-names.js';
import { RESTART_MAX_ID, type BeaconRecord, type BeaconReport } from './beacons.js';
import type { CircuitSummary } from './circuits.js';

/** Closes by one server within this many seconds of the first are one going-down (a dying IOC's sockets close together). */
export const CLOSE_BURST_SEC = 1;

/**
 * A restart seen in the circuits alone needs at least this many circuits closed at
 * once: a server closing its one circuit may just be dropping that client.
 */
export const MIN_BURST_CIRCUITS = 2;

/** What shows the restart. */
export type RestartEvidence =
  /** the server's beacon id went back to a small value */
  | 'beacon-id'
  /**
   * a server's first beacons in the capture, with a fresh id, after the closes or the last beacons of
   * the server (the same, or another port of the same host) that went down before
   */
  | 'fresh-beacons'
  /** the server closed every circuit it had at once (no beacon says so) */
  | 'circuits';

/** A client host that lost its circuits to a restarting IOC. */
export interface RestartClient {
  /** the client host's address */
  host: string;
  /** its circuits to the IOC when it went */
  lost: CircuitSummary[];
  /** its next circuit to the IOC (SYN, else first packet), if the capture has one */
  back?: CircuitSummary;
  /** seconds from the restart's time to `back`'s start */
  seconds?: number;
}

export interface IocRestart {
  /** the server before and after (differ when the IOC came back on another port) */
  server: string;
  serverAfter: string;
  evidence: RestartEvidence;
  /** the last beacon before the restart and the first after it */
  beaconBefore?: BeaconRecord;
  beaconAfter?: BeaconRecord;
  /** the circuits the server closed going down, first close first */
  closed: CircuitSummary[];
  /** when it went down (the first close) if seen, else when it came back (the first beacon) */
  time: number;
  clients: RestartClient[];
}

/** A circuit that carried CA or completed its handshake (not a connection refused). */
function established(c: CircuitSummary): boolean {
  return c.firstMessage !== undefined || c.handshakeRtt !== undefined;
}

/** Circuits the server closed: its FIN or RST came first (connections it refused are not circuits). */
export function serverClosed(circuits: readonly CircuitSummary[]): CircuitSummary[] {
  return circuits.filter((c) => c.closer === 'server' && c.closeTime !== undefined && established(c));
}

/** Connections the server refused: a RST and no CA message, no SYN-ACK. */
export function refusedConnections(circuits: readonly CircuitSummary[]): CircuitSummary[] {
  return circuits.filter((c) => c.closer === 'server' && !established(c));
}

/** The packet that closed the circuit: a RST, or the closer's FIN. */
export function closePacket(c: CircuitSummary): 'FIN' | 'RST' {
  return c.endedBy === 'rst' && c.endFrame === c.closeFrame ? 'RST' : 'FIN';
}

/** When a circuit stopped being open: its first FIN or RST, its end, or never. */
const closedAt = (c: CircuitSummary): number => c.closeTime ?? c.end ?? Infinity;

/** How many of the sorted numbers are below x. */
function countBelow(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One server's established circuits in the order they started, with their start and close times sorted. */
interface ServerCircuits {
  circuits: CircuitSummary[];
  starts: number[];
  closes: number[];
}

/** The circuits and beacons of each server, looked up by server (a capture may hold many thousands of each). */
class ByServer {
  private readonly circuits = new Map<string, ServerCircuits>();
  private readonly beacons = new Map<string, BeaconRecord[]>();
  /** the times of each server's beacons, in order */
  private readonly beaconTimes = new Map<string, number[]>();

  constructor(beacons: BeaconReport, circuits: readonly CircuitSummary[]) {
    for (const c of circuits) {
      if (!established(c)) continue;
      let s = this.circuits.get(c.server);
      if (!s) this.circuits.set(c.server, (s = { circuits: [], starts: [], closes: [] }));
      s.circuits.push(c);
    }
    for (const s of this.circuits.values()) {
      s.circuits.sort((a, b) => a.start - b.start);
      s.starts = s.circuits.map((c) => c.start);
      s.closes = s.circuits.map(closedAt).sort((a, b) => a - b);
    }
    for (const b of beacons.timeline) {
      const list = this.beacons.get(b.server);
      if (list) list.push(b);
      else this.beacons.set(b.server, [b]);
    }
    for (const [server, list] of this.beacons) this.beaconTimes.set(server, list.map((b) => b.at.time));
  }

  circuitsOf(server: string): readonly CircuitSummary[] {
    return this.circuits.get(server)?.circuits ?? [];
  }

  /** How many circuits of the server were open at t (started before, not closed before). */
  openCount(server: string, t: number): number {
    const s = this.circuits.get(server);
    return s ? countBelow(s.starts, t) - countBelow(s.closes, t) : 0;
  }

  /** The circuits of the server open at t. */
  openAt(server: string, t: number): CircuitSummary[] {
    return this.circuitsOf(server).filter((c) => c.start < t && closedAt(c) >= t);
  }

  /** The server's first beacon. */
  firstBeacon(server: string): BeaconRecord {
    return this.beacons.get(server)![0]!;
  }

  /** The server's last beacon before t. */
  beaconBefore(server: string, t: number): BeaconRecord | undefined {
    const before = countBelow(this.beaconTimes.get(server) ?? [], t);
    return before ? this.beacons.get(server)![before - 1] : undefined;
  }

  /** Whether the server sent no beacon after `from` and before `to`. */
  silentBetween(server: string, from: number, to: number): boolean {
    const times = this.beaconTimes.get(server) ?? [];
    let next = countBelow(times, from);
    while (next < times.length && times[next]! <= from) next++;
    return next >= times.length || times[next]! >= to;
  }
}

/** Established circuits each server closed, in groups closed within CLOSE_BURST_SEC of the group's first. */
function closeBursts(circuits: readonly CircuitSummary[]): CircuitSummary[][] {
  const closed = serverClosed(circuits).sort((a, b) => a.closeTime! - b.closeTime!);
  const open = new Map<string, CircuitSummary[]>();
  const bursts: CircuitSummary[][] = [];
  for (const c of closed) {
    const burst = open.get(c.server);
    if (burst && c.closeTime! - burst[0]!.closeTime! <= CLOSE_BURST_SEC) burst.push(c);
    else {
      const next = [c];
      open.set(c.server, next);
      bursts.push(next);
    }
  }
  return bursts;
}

/**
 * Every IOC restart in the capture, in time order, with the circuits the server
 * closed going down and, per client host that had a circuit to it, its next one.
 */
export function findRestarts(beacons: BeaconReport, circuits: readonly CircuitSummary[]): IocRestart[] {
  const index = new ByServer(beacons, circuits);
  const bursts = closeBursts(circuits);
  const used = new Set<CircuitSummary[]>();
  const restarts: IocRestart[] = [];
  const take = (r: IocRestart, burst: CircuitSummary[] | undefined): void => {
    if (burst) {
      used.add(burst);
      r.closed = burst;
      r.time = burst[0]!.closeTime!;
    }
    restarts.push(r);
  };
  // The id went back: the IOC went down after its last beacon before, with the last burst of closes there.
  for (const after of beacons.timeline) {
    if (!after.restart) continue;
    const before = index.beaconBefore(after.server, after.at.time)!;
    const burst = bursts.findLast((b) => !used.has(b) && b[0]!.server === after.server && b[0]!.closeTime! > before.at.time && b[0]!.closeTime! <= after.at.time);
    take(restart(after.server, after.server, 'beacon-id', before, after), burst);
  }
  // A server whose first beacon has a fresh id took over from what went down on its host before it: the
  // last burst of closes there (by a server silent from then on), else a server whose beacons stopped for
  // good. An IOC on an ephemeral TCP port comes back on another port.
  const gone = new Set<string>();
  for (const fresh of beacons.servers) {
    const after = index.firstBeacon(fresh.server);
    if (after.id > RESTART_MAX_ID) continue;
    const host = hostOf(fresh.server);
    const t = after.at.time;
    const burst = bursts.findLast(
      (b) => !used.has(b) && hostOf(b[0]!.server) === host && b[0]!.closeTime! < t && index.silentBetween(b[0]!.server, b[0]!.closeTime!, t),
    );
    const server =
      burst?.[0]!.server ??
      beacons.servers
        .filter((s) => s !== fresh && !gone.has(s.server) && hostOf(s.server) === host && s.last.time < t && s.silences.some((x) => x.to === undefined))
        .sort((a, b) => b.last.time - a.last.time)[0]?.server;
    if (server === undefined) continue;
    gone.add(server);
    take(restart(server, fresh.server, 'fresh-beacons', index.beaconBefore(server, t), after), burst);
  }
  // No beacon says so, but the server closed every circuit it had at once.
  for (const burst of bursts) {
    if (used.has(burst) || burst.length < MIN_BURST_CIRCUITS) continue;
    const first = burst[0]!;
    const t = first.closeTime!;
    if (index.openCount(first.server, t) === burst.filter((c) => c.start < t).length) take(restart(first.server, first.server, 'circuits'), burst);
  }
  for (const r of restarts) r.clients = restartClients(r, index);
  return restarts.sort((a, b) => a.time - b.time);
}

function restart(server: string, serverAfter: string, evidence: RestartEvidence, beaconBefore?: BeaconRecord, beaconAfter?: BeaconRecord): IocRestart {
  return { server, serverAfter, evidence, beaconBefore, beaconAfter, closed: [], time: beaconAfter?.at.time ?? NaN, clients: [] };
}

/** Per client host with a circuit to the IOC when it went: those circuits, and its next circuit to the IOC. */
function restartClients(r: IocRestart, index: ByServer): RestartClient[] {
  // Went down at the first close; without one, some time after the last beacon of its old life.
  const down = r.closed[0]?.closeTime ?? r.beaconBefore?.at.time ?? r.time;
  const lost = new Set(index.openAt(r.server, down));
  const clients = new Map<string, RestartClient>();
  for (const c of lost) {
    const host = hostOf(c.client);
    const client = clients.get(host);
    if (client) client.lost.push(c);
    else clients.set(host, { host, lost: [c] });
  }
  // The first circuit of each of those hosts to the IOC that started after it went down.
  let waiting = clients.size;
  for (const c of index.circuitsOf(r.serverAfter)) {
    if (waiting === 0) break;
    const client = clients.get(hostOf(c.client));
    if (!client || client.back || c.start < down || lost.has(c)) continue;
    client.back = c;
    client.seconds = c.start - r.time;
    waiting--;
  }
  return [...clients.values()];
}
