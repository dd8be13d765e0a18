// What `cawire compare` reports of a run: per direction, per server and per
// circuit, the packets matched, lost between the points, and the one-way delays
// (count, min/p50/p90/p99/max in ms, on A's clock less the offset).

import { ipToString } from '../../protocols/ca/ip.js';
import { quantileSorted } from '../analysis/latency-stats.js';
import { pathKey, type Flow } from './matcher.js';
import { DOWN, UP, type Dir } from './packets.js';
import type { CompareRun } from './run.js';

export interface OwdStats {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface DirectionTotals {
  /** matched data segments and CA datagrams */
  packets: number;
  /** sent, never received (TCP segments and datagrams) */
  lost_packets: number;
  lost_tcp_segments: number;
  lost_datagrams: number;
  /** of the lost: the same bytes were sent again and arrived */
  lost_then_resent: number;
  /** sent while the other capture was not running (it started later or ended sooner): not loss */
  outside_other_capture: number;
  /** received, with no copy in the sender's capture (the sender's capture missed it) */
  unmatched_received: number;
  /** sent on paths the other capture never saw any packet of (another route, another server): not compared */
  not_compared: number;
  owd_ms: OwdStats;
}

export interface ServerRow {
  server: string;
  client_to_server: DirectionTotals;
  server_to_client: DirectionTotals;
}

export interface CircuitRow {
  /** client and server as capture A saw them */
  client: string;
  server: string;
  /** the same circuit as capture B saw it (differs behind an address translator) */
  client_at_b: string;
  server_at_b: string;
  /** the share of the circuit's matched packets that went between the two flows of the mapping A→B (1: all) */
  match_score: number;
  first_frame_a: number;
  client_to_server: DirectionTotals;
  server_to_client: DirectionTotals;
}

export interface CompareReport {
  clock_offset_s: number;
  clock_offset_source: 'estimated' | 'given';
  clock_offset_how: string;
  client_to_server: DirectionTotals;
  server_to_client: DirectionTotals;
  servers: ServerRow[];
  circuits: CircuitRow[];
  /** CA packets each capture has, and each capture's span on A's clock */
  captures: { ca_packets: number; first_s: number; last_s: number }[];
}

const endpoint = (ip: number, port: number): string => `${ipToString(ip)}:${port}`;

/** The flow matched with `f` most often (its peer in the other capture). */
function bestPeer(f: Flow): [Flow | undefined, number] {
  let best: Flow | undefined;
  let n = 0;
  for (const [g, k] of f.peers) if (k > n) [best, n] = [g, k];
  return [best, n];
}

/** Milliseconds of a delay in seconds, rounded to whole picoseconds (float noise off). */
const ms = (s: number): number => Math.round(s * 1e9) / 1e6;

function owd(flows: readonly Flow[], shift: number): OwdStats {
  let n = 0;
  for (const f of flows) n += f.matched;
  const all = new Float64Array(n);
  let at = 0;
  for (const f of flows) {
    all.set(f.delays.subarray(0, f.matched), at);
    at += f.matched;
  }
  all.sort();
  const q = (p: number): number => (n ? ms(quantileSorted(all, p) + shift) : NaN);
  return { count: n, min: q(0), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) };
}

/** A direction's totals over the sender's flows `flows` and the receiver's flows `received`. */
function totals(flows: readonly Flow[], received: readonly Flow[], compared: ReadonlySet<string>, shift: number): DirectionTotals {
  const t: DirectionTotals = {
    packets: 0,
    lost_packets: 0,
    lost_tcp_segments: 0,
    lost_datagrams: 0,
    lost_then_resent: 0,
    outside_other_capture: 0,
    unmatched_received: 0,
    not_compared: 0,
    owd_ms: owd(flows, shift),
  };
  for (const f of flows) {
    t.packets += f.matched;
    t.outside_other_capture += f.outsideOther;
    if (!compared.has(pathKey(f))) {
      t.not_compared += f.lost;
      continue;
    }
    t.lost_packets += f.lost;
    if (f.tcp) t.lost_tcp_segments += f.lost;
    else t.lost_datagrams += f.lost;
    t.lost_then_resent += f.lostResent;
  }
  for (const f of received) t.unmatched_received += f.unmatched;
  return t;
}

/** The report of a run; `serverPorts` tell which end of a datagram is the server's. */
export function compareReport(run: CompareRun, serverPorts: ReadonlySet<number>, defaultServerPort: number): CompareReport {
  const m = run.matcher;
  const theta = run.offset.offset;
  // Raw delays are the receiver's clock minus the sender's: up + θ, down − θ.
  const shift = [theta, -theta];
  const [flowsA, flowsB] = [m.flows[0].all, m.flows[1].all];
  const senders: [Flow[], Flow[]] = [flowsA.filter((f) => f.dir === UP), flowsB.filter((f) => f.dir === DOWN)];
  const receivers: [Flow[], Flow[]] = [flowsB.filter((f) => f.dir === UP), flowsA.filter((f) => f.dir === DOWN)];
  const compared = new Set<string>();
  for (const list of senders) for (const f of list) if (f.matched > 0) compared.add(pathKey(f));
  const dirTotals = (dir: Dir, pick: (f: Flow) => boolean = () => true): DirectionTotals =>
    totals(senders[dir].filter(pick), receivers[dir].filter(pick), compared, shift[dir]!);

  // Every flow's circuit (or server, for datagrams) in A's terms: a flow of B takes its peer's.
  const aView = new Map<Flow, Flow>();
  for (const f of flowsA) aView.set(f, f);
  for (const f of flowsB) {
    const [peer] = bestPeer(f);
    if (peer) aView.set(f, peer);
  }
  for (const f of flowsA) {
    const [peer] = bestPeer(f);
    if (peer && !aView.has(peer)) aView.set(peer, f);
  }
  const clientEnd = (f: Flow): string => (f.dir === UP ? endpoint(f.srcIp, f.sport) : endpoint(f.dstIp, f.dport));
  const serverEnd = (f: Flow): string => {
    if (f.dir === UP) return endpoint(f.dstIp, f.dport);
    // A beacon comes from an ephemeral port: its server is the host's CA server.
    return endpoint(f.srcIp, f.tcp || serverPorts.has(f.sport) ? f.sport : defaultServerPort);
  };
  const serverOf = (f: Flow): string => serverEnd(aView.get(f) ?? f);
  const circuitOf = (f: Flow): string => {
    const a = aView.get(f) ?? f;
    return `${clientEnd(a)} ${serverEnd(a)}`;
  };

  const servers = [...new Set([...flowsA, ...flowsB].map(serverOf))].sort(byAddress).map(
    (server): ServerRow => ({
      server,
      client_to_server: dirTotals(UP, (f) => serverOf(f) === server),
      server_to_client: dirTotals(DOWN, (f) => serverOf(f) === server),
    }),
  );

  const circuits: CircuitRow[] = [];
  const tcpByCircuit = new Map<string, Flow[]>();
  for (const f of [...flowsA, ...flowsB]) {
    if (!f.tcp) continue;
    const id = circuitOf(f);
    const list = tcpByCircuit.get(id);
    if (list) list.push(f);
    else tcpByCircuit.set(id, [f]);
  }
  for (const [id, flows] of tcpByCircuit) {
    const mine = (f: Flow): boolean => flows.includes(f);
    const [client, server] = id.split(' ') as [string, string];
    const atB = flows.find((f) => f.side === 1);
    let agree = 0;
    let compared = 0;
    for (const f of flows) {
      if (f.side !== (f.dir === UP ? 0 : 1)) continue;
      agree += bestPeer(f)[1];
      compared += f.matched;
    }
    const firstA = flows.filter((f) => f.side === 0).map((f) => f.firstFrame);
    circuits.push({
      client,
      server,
      client_at_b: atB ? clientEnd(atB) : '',
      server_at_b: atB ? serverEnd(atB) : '',
      match_score: compared ? Math.round((agree / compared) * 1000) / 1000 : 0,
      first_frame_a: firstA.length ? Math.min(...firstA) : 0,
      client_to_server: dirTotals(UP, mine),
      server_to_client: dirTotals(DOWN, mine),
    });
  }
  circuits.sort((x, y) => x.first_frame_a - y.first_frame_a || byAddress(x.client, y.client));

  return {
    clock_offset_s: Math.round(theta * 1e9) / 1e9,
    clock_offset_source: run.offset.source,
    clock_offset_how: run.offset.how,
    client_to_server: dirTotals(UP),
    server_to_client: dirTotals(DOWN),
    servers,
    circuits,
    captures: [0, 1].map((i) => ({ ca_packets: run.caPackets[i]!, first_s: m.span[i as 0 | 1].first, last_s: m.span[i as 0 | 1].last })),
  };
}

/** ip:port strings in numeric order. */
function byAddress(a: string, b: string): number {
  const na = a.split(/[.:]/).map(Number);
  const nb = b.split(/[.:]/).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) if ((na[i] ?? 0) !== (nb[i] ?? 0)) return (na[i] ?? 0) - (nb[i] ?? 0);
  return 0;
}
