// What a synthetic capture holds, accounted as its packets are written: the CA
// messages a decoder can see (by caproto type), every request/response pair
// with its injected and its on-the-wire latency, names never answered, beacon
// restarts and missed beacons, and the TCP faults injected. Written beside the
// capture as JSON so tests and benchmarks can compare cawire's findings with it.

/** Request/response pairs the scenario produces (ca-protocol-notes §11 pairing keys). */
export type TruthPairKind = 'search' | 'create' | 'read' | 'write' | 'subscribe' | 'cancel' | 'clear' | 'echo';

/** A response's link to its request, carried by the packet that completes the response. */
export interface PairTruth {
  kind: TruthPairKind;
  ioc: string;
  client: string;
  pv: string | undefined;
  /** scenario time (ns) of the packet that completed the request */
  requestAt: number;
  /** the server's drawn delay (ns) before it began to answer */
  injectedNs: number;
}

/** A search request for, or a reply about, one name. */
export interface SearchTruth {
  name: string;
  reply: boolean;
}

/** What writing one packet adds to the truth. */
export type TruthEffect =
  | { kind: 'message'; type: string; pair?: PairTruth; search?: SearchTruth }
  /** the SYN of a new TCP circuit, from a client host to an IOC */
  | { kind: 'circuit'; ioc: string; client: string }
  /** a FIN or RST the IOC sends */
  | { kind: 'server-close'; ioc: string }
  /** a beacon of the IOC */
  | { kind: 'beacon'; ioc: string }
  /** bytes of this TCP direction the capture misses before this packet; the messages they held */
  | { kind: 'gap'; bytes: number; lostTypes: string[] }
  | { kind: 'retransmission' }
  | { kind: 'out-of-order' };

export interface TruthPair {
  kind: TruthPairKind;
  ioc: string;
  client: string;
  pv?: string;
  /** request time, µs after the capture's start time */
  requestUs: number;
  /** response minus request time as the capture shows it (µs) */
  latencyUs: number;
  /** the server's drawn delay (µs); the rest is batching and segmentation */
  injectedUs: number;
}

export interface TruthLatency {
  count: number;
  minUs: number;
  meanUs: number;
  maxUs: number;
  /** mean of the drawn server delays */
  injectedMeanUs: number;
}

export interface BeaconRestart {
  ioc: string;
  /** when the IOC went down and came back, µs after the start time */
  downUs: number;
  upUs: number;
  portBefore: number;
  portAfter: number;
  /** frame of the first FIN or RST the IOC sent going down (none when it had no circuit) */
  downFrame?: number;
  /** frame of the first beacon the capture holds from the restarted IOC */
  upFrame?: number;
  /** client hosts with a circuit to the IOC when it went down, and the SYN of each one's next circuit to it */
  clients: RestartClient[];
}

export interface RestartClient {
  client: string;
  /** µs after the start time, and frame, of the SYN; absent when the capture ended first */
  backUs?: number;
  backFrame?: number;
}

export interface MissedBeacon {
  ioc: string;
  beaconId: number;
  atUs: number;
}

export interface TruthReport {
  generator: string;
  /** Unix seconds of scenario time 0 */
  startTime: number;
  options: Record<string, unknown>;
  /** packets written, their IPv4 bytes, and the times of the first and last (µs after startTime) */
  capture: { packets: number; ipBytes: number; firstPacketUs: number; lastPacketUs: number };
  /** every CA message a decoder can frame, by caproto type */
  messages: { total: number; byType: Record<string, number> };
  /** messages written to the wire but inside bytes the capture misses */
  lostMessages: { total: number; byType: Record<string, number> };
  iocs: Array<{ name: string; ip: string; ports: number[]; latency: string; gateway: boolean; pvs: number }>;
  clients: Array<{ name: string; ip: string; kind: string }>;
  /**
   * TCP as captured: circuits opened (SYN), packets repeating captured bytes, packets
   * ahead of bytes still to come (reordering; a decoder also holds the packet after
   * each gap), and the gaps of bytes the capture misses.
   */
  tcp: { circuits: number; retransmissions: number; outOfOrder: number; gaps: number; gapBytes: number };
  /** per IOC, per pair kind: the latencies written */
  latency: Record<string, Record<string, TruthLatency>>;
  /** the first `pairsLimit` pairs in capture order; later ones only counted in `latency` */
  pairs: TruthPair[];
  pairsOmitted: number;
  search: {
    requests: number;
    replies: number;
    /** names searched for and never answered, with how often they were asked for */
    unanswered: Array<{ name: string; requests: number }>;
  };
  beacons: { written: number; missed: MissedBeacon[]; restarts: BeaconRestart[] };
}

const NS_PER_US = 1000;
const toUs = (ns: number): number => Math.round(ns / NS_PER_US);

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function sortedObject(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface RunningLatency {
  count: number;
  minNs: number;
  maxNs: number;
  sumNs: number;
  injectedSumNs: number;
}

export class TruthRecorder {
  private readonly messages = new Map<string, number>();
  private readonly lost = new Map<string, number>();
  private readonly latency = new Map<string, Map<TruthPairKind, RunningLatency>>();
  private readonly pairs: TruthPair[] = [];
  private pairsOmitted = 0;
  private readonly tcp = { circuits: 0, retransmissions: 0, outOfOrder: 0, gaps: 0, gapBytes: 0 };
  private packets = 0;
  private bytes = 0;
  private firstAt = -1;
  private lastAt = -1;
  private searchRequests = 0;
  private searchReplies = 0;
  /** per name searched: requests written, and whether any reply was */
  private readonly names = new Map<string, { requests: number; answered: boolean }>();
  private readonly missed: MissedBeacon[] = [];
  private readonly restarts: BeaconRestart[] = [];
  /** the latest restart of each IOC */
  private readonly lastRestart = new Map<string, BeaconRestart>();

  constructor(private readonly pairsLimit: number) {}

  /** An IPv4 packet of `ipBytes` at scenario time `at` (ns) was written, with these effects. */
  packetWritten(at: number, ipBytes: number, effects: readonly TruthEffect[] | undefined): void {
    this.packets++;
    this.bytes += ipBytes;
    if (this.firstAt < 0) this.firstAt = at;
    this.lastAt = at;
    if (!effects) return;
    for (const e of effects) {
      switch (e.kind) {
        case 'message':
          bump(this.messages, e.type);
          if (e.pair) this.pairDone(e.pair, at);
          if (e.search) this.searched(e.search);
          break;
        case 'circuit': {
          this.tcp.circuits++;
          for (const r of this.restarts) {
            if (r.ioc !== e.ioc) continue;
            const back = r.clients.find((c) => c.client === e.client && c.backFrame === undefined);
            if (!back) continue;
            back.backUs = toUs(at);
            back.backFrame = this.packets;
          }
          break;
        }
        case 'server-close': {
          const r = this.lastRestart.get(e.ioc);
          if (r && r.upUs < 0) r.downFrame ??= this.packets;
          break;
        }
        case 'beacon': {
          const r = this.lastRestart.get(e.ioc);
          if (r && r.upUs >= 0) r.upFrame ??= this.packets;
          break;
        }
        case 'gap':
          this.tcp.gaps++;
          this.tcp.gapBytes += e.bytes;
          for (const type of e.lostTypes) bump(this.lost, type);
          break;
        case 'retransmission':
          this.tcp.retransmissions++;
          break;
        case 'out-of-order':
          this.tcp.outOfOrder++;
          break;
      }
    }
  }

  /** Beacons and restarts happen between packets: report() keeps those before the last packet written. */
  beaconMissed(ioc: string, beaconId: number, at: number): void {
    this.missed.push({ ioc, beaconId, atUs: toUs(at) });
  }

  /** The IOC went down at `at` (ns), closing the circuits of these client hosts; iocUp() follows. */
  iocDown(ioc: string, at: number, clients: readonly string[], portBefore: number): void {
    const restart: BeaconRestart = {
      ioc,
      downUs: toUs(at),
      upUs: -1,
      portBefore,
      portAfter: portBefore,
      downFrame: undefined,
      upFrame: undefined,
      clients: clients.map((client) => ({ client })),
    };
    this.lastRestart.set(ioc, restart);
    this.restarts.push(restart);
  }

  /** The IOC that went down came back at `at` (ns) on `port`. */
  iocUp(ioc: string, at: number, port: number): void {
    const restart = this.lastRestart.get(ioc)!;
    restart.upUs = toUs(at);
    restart.portAfter = port;
  }

  report(meta: Pick<TruthReport, 'generator' | 'startTime' | 'options' | 'iocs' | 'clients'>): TruthReport {
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const lastUs = toUs(this.lastAt);
    const latency: TruthReport['latency'] = {};
    for (const [ioc, byKind] of [...this.latency].sort(([a], [b]) => (a < b ? -1 : 1))) {
      latency[ioc] = {};
      for (const [kind, r] of [...byKind].sort(([a], [b]) => (a < b ? -1 : 1))) {
        latency[ioc][kind] = {
          count: r.count,
          minUs: toUs(r.minNs),
          meanUs: Math.round(r.sumNs / r.count / NS_PER_US * 100) / 100,
          maxUs: toUs(r.maxNs),
          injectedMeanUs: Math.round(r.injectedSumNs / r.count / NS_PER_US * 100) / 100,
        };
      }
    }
    return {
      ...meta,
      capture: { packets: this.packets, ipBytes: this.bytes, firstPacketUs: toUs(this.firstAt), lastPacketUs: toUs(this.lastAt) },
      messages: { total: total(this.messages), byType: sortedObject(this.messages) },
      lostMessages: { total: total(this.lost), byType: sortedObject(this.lost) },
      tcp: { ...this.tcp },
      latency,
      pairs: this.pairs,
      pairsOmitted: this.pairsOmitted,
      search: {
        requests: this.searchRequests,
        replies: this.searchReplies,
        unanswered: [...this.names]
          .filter(([, s]) => !s.answered)
          .map(([name, s]) => ({ name, requests: s.requests }))
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      },
      beacons: {
        written: this.messages.get('Beacon') ?? 0,
        missed: this.missed.filter((m) => m.atUs <= lastUs),
        restarts: this.restarts.filter((r) => r.upUs >= 0 && r.downUs <= lastUs),
      },
    };
  }

  private searched(s: SearchTruth): void {
    let entry = this.names.get(s.name);
    if (!entry) this.names.set(s.name, (entry = { requests: 0, answered: false }));
    if (s.reply) {
      this.searchReplies++;
      entry.answered = true;
    } else {
      this.searchRequests++;
      entry.requests++;
    }
  }

  private pairDone(p: PairTruth, responseAt: number): void {
    const latencyNs = responseAt - p.requestAt;
    let byKind = this.latency.get(p.ioc);
    if (!byKind) this.latency.set(p.ioc, (byKind = new Map()));
    const r = byKind.get(p.kind);
    if (r) {
      r.count++;
      r.minNs = Math.min(r.minNs, latencyNs);
      r.maxNs = Math.max(r.maxNs, latencyNs);
      r.sumNs += latencyNs;
      r.injectedSumNs += p.injectedNs;
    } else {
      byKind.set(p.kind, { count: 1, minNs: latencyNs, maxNs: latencyNs, sumNs: latencyNs, injectedSumNs: p.injectedNs });
    }
    if (this.pairs.length >= this.pairsLimit) {
      this.pairsOmitted++;
      return;
    }
    const record: TruthPair = {
      kind: p.kind,
      ioc: p.ioc,
      client: p.client,
      requestUs: toUs(p.requestAt),
      latencyUs: toUs(latencyNs),
      injectedUs: toUs(p.injectedNs),
    };
    if (p.pv !== undefined) record.pv = p.pv;
    this.pairs.push(record);
  }
}

/** The report as JSON text: indented, with one pair per line so large truth files stay readable. */
export function formatTruth(report: TruthReport): string {
  const marker = '"@pairs@"';
  const pairs = report.pairs.map((p) => `    ${JSON.stringify(p)}`).join(',\n');
  const text = JSON.stringify({ ...report, pairs: marker.slice(1, -1) }, null, 2);
  return `${text.replace(marker, pairs ? `[\n${pairs}\n  ]` : '[]')}\n`;
}
