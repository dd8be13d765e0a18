// One screen for a capture someone just sent: what is in it, and the problems
// the other reports find, each with the command that shows the detail.

import { ecaIsSuccess, ecaName } from '../../protocols/ca/eca.js';
import {
  CreateChFailResponse,
  ErrorResponse,
  EventAddResponse,
  ReadNotifyResponse,
  WriteNotifyResponse,
} from '../../protocols/ca/messages.js';
import type { TcpCircuit } from '../dissect/circuits.js';
import { CompositeAnalysis, type Analysis } from './analysis.js';
import type { CaEvent } from '../dissect/event.js';
import { allButMonitorUpdates, declinedUpdate, type DeclinedMessage, type MessageSelection } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { formatSecondsIso, safeText } from '../output/values.js';
import { BeaconAnalysis, type BeaconReport } from './beacons.js';
import { CircuitAnalysis, resetCircuits, retransmissionRate, stallText, type CircuitSummary } from './circuits.js';
import { extendSpan, extendSpanAt, type Moment, type Span } from './moment.js';
import { Pairer, type PairRecord } from './pairing.js';
import { closePacket, findRestarts, refusedConnections, serverClosed, type IocRestart, type RestartClient } from './restarts.js';
import { SearchAnalysis, type SearchReport } from './searches.js';
import { DnsAnalysis, type DnsSummary } from './dns.js';

/** A response slower than this is listed: caget and caput give up after 1 s by default (-w 1.0). */
export const DEFAULT_SLOW_SEC = 1;

/** Examples named in a problem's detail. */
const EXAMPLES = 3;

/** A circuit whose retransmissions are more than this percentage of its segments is listed (--retrans-rate). */
export const DEFAULT_RETRANS_PERCENT = 1;

export interface SummaryOptions {
  slowSec?: number;
  /** percent: circuits with a higher retransmission rate are listed */
  retransPercent?: number;
}

/** How often some kind of message was seen, and the first few: their PV and frame. */
class Occurrences {
  count = 0;
  private readonly examples: string[] = [];

  add(ev: CaEvent): void {
    this.count++;
    if (this.examples.length < EXAMPLES) this.examples.push(`${ev.pv === undefined ? '' : `${safeText(ev.pv)} `}frame ${ev.frame}`);
  }

  toString(): string {
    return this.examples.join(', ') + (this.count > this.examples.length ? ', ...' : '');
  }
}

export interface Problem {
  problem: string;
  /** how many were found (0: checked, none) */
  count: number;
  /** examples, with the frames to open */
  detail: string;
  /** the cawire command (without the capture) that shows every case */
  command: string;
  /** every frame the problem's cases name (the detail names only the first few cases) */
  frames?: number[];
}

export interface CaptureSummary {
  first?: Moment;
  last?: Moment;
  packets: number;
  caMessages: number;
  /** message count by caproto class name, most frequent first */
  commands: [string, number][];
  servers: string[];
  clientHosts: number;
  pvs: number;
  circuits: number;
  problems: Problem[];
  /** DNS queries sent by the CA client hosts (dns.ts) */
  dns?: DnsSummary;
}

/** What the summary counts itself, in the same pass as the other analyses (SummaryAnalysis). */
export interface SummaryCountsPart {
  first?: Moment;
  last?: Moment;
  commands: [string, number][];
  clientHosts: number;
  pvs: number;
  createFailures: { count: number; text: string };
  /** by ECA name */
  ecaErrors: [string, { count: number; text: string }][];
  slowSec: number;
  slowCount: number;
  /** the slowest responses, slowest first */
  slowest: PairRecord[];
  /** percent: circuits with a higher retransmission rate are listed */
  retransPercent: number;
}

/**
 * The summary's own tallies: messages by command, client hosts, PV names,
 * failures, ECA errors and the slowest responses (a Pairer). It decides which
 * monitor updates are taken whole, so it comes first in the summary's composite.
 */
export class SummaryCounts implements Analysis<SummaryCountsPart> {
  private readonly pairer: Pairer;
  private readonly slowSec: number;
  private readonly retransPercent: number;
  /** message count by class name (a counter object each, so a repeat of the last type costs no lookup) */
  private readonly commands = new Map<string, { n: number }>();
  private lastType = '';
  private lastCount = { n: 0 };
  private lastPv?: string;
  private lastClient = -1;
  private readonly clientHosts = new Set<number>();
  private readonly pvs = new Set<string>();
  private readonly createFailures = new Occurrences();
  /** by ECA name */
  private readonly ecaErrors = new Map<string, Occurrences>();
  private slowCount = 0;
  /** the slowest responses, slowest first */
  private readonly slowest: PairRecord[] = [];
  /** first and last CA message */
  private readonly span: Span = {};

  constructor(opts: SummaryOptions = {}) {
    this.slowSec = opts.slowSec ?? DEFAULT_SLOW_SEC;
    this.retransPercent = opts.retransPercent ?? DEFAULT_RETRANS_PERCENT;
    this.pairer = new Pairer({}, (r) => this.pair(r));
  }

  event(ev: CaEvent): void {
    this.pairer.event(ev);
    extendSpan(this.span, ev);
    this.count(ev.type);
    if (ev.direction === 'request' && ev.srcIp !== this.lastClient) this.clientHosts.add((this.lastClient = ev.srcIp));
    if (ev.pv !== undefined && ev.pv !== this.lastPv) this.pvs.add((this.lastPv = ev.pv));
    const m = ev.command;
    if (m instanceof CreateChFailResponse) this.createFailures.add(ev);
    else if (m instanceof ErrorResponse) this.ecaError(m.status, ev);
    else if ((m instanceof ReadNotifyResponse || m instanceof WriteNotifyResponse || m instanceof EventAddResponse) && !ecaIsSuccess(m.status)) {
      this.ecaError(m.status, ev);
    }
  }

  /**
   * What the summary reads, as dissection options: every message whole but the
   * monitor updates, most of a busy capture, which are offered to declined().
   */
  selection(): MessageSelection {
    return {
      wants: allButMonitorUpdates,
      declined: (m) => this.declined(m),
      copyMessages: true,
    };
  }

  /**
   * A successful monitor update the pairer need not see is counted from its
   * header words exactly as its event would be; anything else is taken whole
   * (true), before anything is tallied. Its PV needs no adding: the circuit
   * knows it from the CreateChan and EventAdd messages, which came as events
   * with the same name.
   */
  declined(m: DeclinedMessage): boolean {
    if (!declinedUpdate(m) || !ecaIsSuccess(m.parameter1)) return true;
    if (this.pairer.declined(m)) return true;
    extendSpanAt(this.span, m);
    this.count('EventAddResponse');
    return false;
  }

  private count(type: string): void {
    if (type !== this.lastType) {
      let count = this.commands.get(type);
      if (!count) this.commands.set(type, (count = { n: 0 }));
      this.lastType = type;
      this.lastCount = count;
    }
    this.lastCount.n++;
  }

  circuitEnded(c: TcpCircuit): void {
    this.pairer.circuitEnded(c);
  }

  private ecaError(status: number, ev: CaEvent): void {
    const name = ecaName(status);
    let seen = this.ecaErrors.get(name);
    if (!seen) this.ecaErrors.set(name, (seen = new Occurrences()));
    seen.add(ev);
  }

  private pair(r: PairRecord): void {
    if (r.latency <= this.slowSec) return;
    this.slowCount++;
    const i = this.slowest.findIndex((s) => s.latency < r.latency);
    this.slowest.splice(i < 0 ? this.slowest.length : i, 0, r);
    this.slowest.length = Math.min(this.slowest.length, EXAMPLES);
  }

  finish(): SummaryCountsPart {
    this.pairer.finish();
    return this.snapshot();
  }

  /** --every: the tallies so far (requests still waiting are not yet unanswered). */
  snapshot(): SummaryCountsPart {
    const seen = (o: Occurrences) => ({ count: o.count, text: String(o) });
    return {
      first: this.span.first,
      last: this.span.last,
      commands: [...this.commands].map(([type, c]): [string, number] => [type, c.n]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
      clientHosts: this.clientHosts.size,
      pvs: this.pvs.size,
      createFailures: seen(this.createFailures),
      ecaErrors: [...this.ecaErrors].map(([name, o]) => [name, seen(o)]),
      slowSec: this.slowSec,
      slowCount: this.slowCount,
      slowest: this.slowest,
      retransPercent: this.retransPercent,
    };
  }
}

/** The parts the summary combines: its own tallies and the other reports'. */
export interface SummaryParts extends Record<string, unknown> {
  counts: SummaryCountsPart;
  searches: SearchReport;
  beacons: BeaconReport;
  circuits: CircuitSummary[];
  dns: DnsSummary;
}

/** Every report over one pass of the capture (a CompositeAnalysis); `finish()` gives the summary. */
export class SummaryAnalysis implements Analysis<CaptureSummary> {
  private readonly composite: CompositeAnalysis<SummaryParts>;

  constructor(opts: SummaryOptions = {}) {
    // SummaryCounts first: it decides which monitor updates are taken whole (see CompositeAnalysis).
    this.composite = new CompositeAnalysis<SummaryParts>({
      counts: new SummaryCounts(opts),
      searches: new SearchAnalysis(),
      beacons: new BeaconAnalysis(),
      circuits: new CircuitAnalysis(),
      dns: new DnsAnalysis(),
    });
  }

  selection(): MessageSelection {
    return this.composite.selection();
  }

  event(ev: CaEvent): void {
    this.composite.event(ev);
  }

  circuitEnded(c: TcpCircuit): void {
    this.composite.circuitEnded(c);
  }

  finish(result: DissectResult): CaptureSummary {
    return summarise(this.composite.finish(result), result);
  }

  snapshot(result: DissectResult, open: readonly TcpCircuit[]): CaptureSummary {
    return summarise(this.composite.snapshot!(result, open), result);
  }
}


/** The summary from its parts. */
export function summarise(parts: SummaryParts, result: DissectResult): CaptureSummary {
  const { counts, searches, beacons, circuits, dns } = parts;
  const servers = new Set<string>([...beacons.servers.map((s) => s.server), ...circuits.map((c) => c.server)]);
  for (const n of searches.names) for (const s of n.servers.keys()) servers.add(s);
  const restarts = findRestarts(beacons, circuits);
  return {
    first: counts.first,
    last: counts.last,
    packets: result.stats.packets,
    caMessages: result.stats.caMessages,
    commands: counts.commands,
    servers: [...servers].sort(),
    clientHosts: counts.clientHosts,
    pvs: counts.pvs,
    circuits: circuits.length,
    dns,
    problems: [
      unansweredProblem(searches),
      duplicateProblem(searches),
      createFailureProblem(counts),
      ecaProblem(counts),
      beaconProblem(beacons),
      restartProblem(restarts),
      resetProblem(circuits),
      serverCloseProblem(circuits, restarts),
      slowProblem(counts),
      stallProblem(circuits),
      heldMonitorsProblem(circuits),
      retransmissionProblem(circuits, counts.retransPercent),
    ],
  };
}

function createFailureProblem(counts: SummaryCountsPart): Problem {
  const f = counts.createFailures;
  return {
    problem: 'failed channel creations',
    count: f.count,
    detail: f.text,
    command: 'cawire print --command CreateChFailResponse --format "{frame} {time} {src}:{sport} {pv}"',
  };
}

function ecaProblem(counts: SummaryCountsPart): Problem {
  const kinds = [...counts.ecaErrors].sort((a, b) => b[1].count - a[1].count);
  return {
    problem: 'ECA errors',
    count: kinds.reduce((n, [, o]) => n + o.count, 0),
    detail: kinds.map(([name, o]) => `${name} x${o.count} (${o.text})`).join('; '),
    command:
      'cawire print --command ErrorResponse,ReadNotifyResponse,WriteNotifyResponse,EventAddResponse --format "{frame} {pv} {type} {command.status}"',
  };
}

function slowProblem(counts: SummaryCountsPart): Problem {
  return {
    problem: `responses slower than ${counts.slowSec} s`,
    count: counts.slowCount,
    detail: counts.slowest
      .map((r) => `${r.kind}${r.pv === undefined ? '' : ` ${safeText(r.pv)}`} ${r.latency.toFixed(3)} s (frames ${r.requestFrame}->${r.responseFrame})`)
      .join('; '),
    command: `cawire latency --kind all --slower-than ${counts.slowSec}s`,
  };
}

function more(total: number): string {
  return total > EXAMPLES ? `; +${total - EXAMPLES} more` : '';
}

function frameRange(first: Moment, last: Moment): string {
  return first.frame === last.frame ? `frame ${first.frame}` : `frames ${first.frame}-${last.frame}`;
}

function unansweredProblem(r: SearchReport): Problem {
  const byName = new Map<string, { searches: number; clients: number; first: Moment; last: Moment }>();
  for (const u of r.unanswered) {
    const seen = byName.get(u.name);
    if (!seen) byName.set(u.name, { searches: u.searches, clients: 1, first: u.first, last: u.last });
    else {
      seen.searches += u.searches;
      seen.clients++;
      if (u.first.time < seen.first.time) seen.first = u.first;
      if (u.last.time > seen.last.time) seen.last = u.last;
    }
  }
  const names = [...byName];
  return {
    problem: 'names searched for without a reply',
    count: names.length,
    detail:
      names
        .slice(0, EXAMPLES)
        .map(([name, n]) => `${safeText(name)} x${n.searches}${n.clients > 1 ? ` from ${n.clients} clients` : ''} (${frameRange(n.first, n.last)})`)
        .join('; ') + more(names.length),
    command: 'cawire searches --unanswered',
  };
}

function duplicateProblem(r: SearchReport): Problem {
  const dups = r.duplicates;
  return {
    problem: 'PV names answered by two servers',
    count: dups.length,
    detail:
      dups
        .slice(0, EXAMPLES)
        .map((n) => `${safeText(n.name)}: ${[...n.servers.values()].map((s) => `${s.server} (frame ${s.firstReply.frame})`).join(', ')}`)
        .join('; ') + more(dups.length),
    command: 'cawire searches --duplicates',
  };
}

function beaconProblem(r: BeaconReport): Problem {
  const withAnomalies = r.servers.filter((s) => s.anomalies.length > 0);
  return {
    problem: 'beacon anomalies (clients re-search)',
    count: withAnomalies.reduce((n, s) => n + s.anomalies.length, 0),
    detail:
      withAnomalies
        .slice(0, EXAMPLES)
        .map((s) => `${s.server} x${s.anomalies.length} (first at frame ${s.anomalies[0]!.at.frame})`)
        .join('; ') + more(withAnomalies.length),
    command: 'cawire beacons --timeline',
  };
}

// ---- IOC restarts and circuits closed by the server ----------------------------

/** Sorted, without repeats. */
function frameSet(frames: Iterable<number | undefined>): number[] {
  return [...new Set([...frames].filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
}

/** How a restart shows: when the IOC went down and how it came back, with the frames. */
function restartEvidence(r: IocRestart): string {
  const first = r.closed[0];
  const down = first
    ? `down ${formatSecondsIso(first.closeTime!)} frame ${first.closeFrame} (closed ${r.closed.length} circuit${r.closed.length > 1 ? 's' : ''})`
    : 'no close seen';
  const b = r.beaconBefore;
  const a = r.beaconAfter;
  if (!a) return `${down}, no beacon seen`;
  if (r.evidence === 'beacon-id') return `${down}, up frame ${a.at.frame} (beacon id ${b!.id} -> ${a.id})`;
  const as = r.serverAfter === r.server ? '' : ` as ${r.serverAfter}`;
  return `${down}, up frame ${a.at.frame}${as} (first beacon id ${a.id}${b ? `, the old one's last at frame ${b.at.frame}` : ''})`;
}

/** Per client host: not back, or back after how long; the ones not back first, then the slowest. */
function clientsBack(r: IocRestart): string {
  if (!r.clients.length) return 'no client had a circuit to it';
  const order = (c: RestartClient) => c.seconds ?? Infinity;
  const clients = [...r.clients].sort((x, y) => order(y) - order(x));
  const words = clients.slice(0, EXAMPLES).map((c, i) => {
    if (!c.back) return `${c.host} not back by the end of the capture`;
    const s = c.seconds!;
    const back = i === 0 || !clients[i - 1]!.back ? 'back ' : '';
    return `${c.host} ${back}${s < 0 ? `${(-s).toFixed(3)} s before the first beacon` : `after ${s.toFixed(3)} s`} (frame ${c.back.startFrame})`;
  });
  return words.join(', ') + (clients.length > EXAMPLES ? `, +${clients.length - EXAMPLES} more` : '');
}

function restartProblem(restarts: readonly IocRestart[]): Problem {
  return {
    problem: 'IOC restarts',
    count: restarts.length,
    detail:
      restarts
        .slice(0, EXAMPLES)
        .map((r) => `${r.server} ${restartEvidence(r)}: ${clientsBack(r)}`)
        .join('; ') + more(restarts.length),
    command: 'cawire circuits',
    frames: frameSet(
      restarts.flatMap((r) => [r.beaconBefore?.at.frame, r.beaconAfter?.at.frame, ...r.closed.map((c) => c.closeFrame), ...r.clients.map((c) => c.back?.startFrame)]),
    ),
  };
}

/** The first few PV names a circuit created. */
function pvHead(c: CircuitSummary): string {
  if (!c.created.length) return c.firstMessage ? 'no channel' : 'no CA message';
  return c.created.slice(0, EXAMPLES).map(safeText).join(' ') + (c.created.length > EXAMPLES ? ` +${c.created.length - EXAMPLES} more` : '');
}

function serverCloseProblem(circuits: readonly CircuitSummary[], restarts: readonly IocRestart[]): Problem {
  const closed = serverClosed(circuits);
  const rst = closed.filter((c) => closePacket(c) === 'RST').length;
  const inRestarts = restarts.reduce((n, r) => n + r.closed.length, 0);
  const refused = refusedConnections(circuits).length;
  const counts = [
    ...(closed.length ? [`FIN x${closed.length - rst}, RST x${rst}${inRestarts ? ` (${inRestarts} going down in IOC restarts)` : ''}`] : []),
    ...closed.slice(0, EXAMPLES).map((c) => `#${c.id} ${c.client} -> ${c.server} ${closePacket(c)} at frame ${c.closeFrame} (${pvHead(c)})`),
  ];
  return {
    problem: 'circuits closed by the server',
    count: closed.length,
    detail: counts.join('; ') + more(closed.length) + (refused ? `${counts.length ? '; ' : ''}${refused} connection${refused > 1 ? 's' : ''} refused` : ''),
    command: 'cawire circuits',
    frames: frameSet(closed.map((c) => c.closeFrame)),
  };
}

function resetProblem(circuits: readonly CircuitSummary[]): Problem {
  const resets = resetCircuits(circuits);
  return {
    problem: 'circuits cut by a reset',
    count: resets.length,
    detail:
      resets
        .slice(0, EXAMPLES)
        .map(({ circuit: c }) => `${c.client} -> ${c.server} RST by ${c.rstBy}${c.lastMessage ? ` after frame ${c.lastMessage.frame}` : ''}`)
        .join('; ') + more(resets.length),
    command: 'cawire circuits --ended-by-rst',
  };
}

// ---- TCP: zero-window stalls and retransmissions --------------------------------

function stallProblem(circuits: readonly CircuitSummary[]): Problem {
  const stalls = circuits.flatMap((c) => c.stalls.map((s) => ({ c, s }))).sort((a, b) => b.s.seconds - a.s.seconds);
  const count = circuits.reduce((n, c) => n + c.stallCount, 0);
  return {
    problem: 'zero-window stalls',
    count,
    detail:
      stalls
        .slice(0, EXAMPLES)
        .map(({ c, s }) => `${c.client} -> ${c.server}: ${stallText(s)}`)
        .join('; ') + more(count),
    command: 'cawire circuits',
    frames: frameSet(stalls.flatMap(({ s }) => [s.startFrame, s.endFrame])),
  };
}

/**
 * Subscriptions whose updates the capture shows held back: on a circuit that
 * carried monitor updates, the client advertised a zero window or sent
 * EVENTS_OFF. Derived from the circuits (no per-update work in the summary);
 * `cawire monitors` finds every stall, with or without such a cause, and the
 * values never sent (--sequence).
 */
function heldMonitorsProblem(circuits: readonly CircuitSummary[]): Problem {
  const held = circuits
    .filter((c) => c.updates > 0)
    .map((c) => ({ c, stall: c.stalls.filter((s) => s.side === 'client').sort((a, b) => b.seconds - a.seconds)[0] }))
    .filter(({ c, stall }) => stall !== undefined || c.eventsOff > 0)
    .sort((a, b) => (b.stall?.seconds ?? 0) - (a.stall?.seconds ?? 0));
  // a subscription made before the capture began is not counted by the circuit: at least one where updates came
  const count = held.reduce((n, { c }) => n + Math.max(c.subscriptions, 1), 0);
  const what = ({ c, stall }: (typeof held)[number]): string => {
    const subs = c.subscriptions === 1 ? '1 subscription' : c.subscriptions > 1 ? `${c.subscriptions} subscriptions` : 'subscriptions';
    return `${c.client} -> ${c.server}, ${subs}: ${stall ? stallText(stall) : `EVENTS_OFF x${c.eventsOff}`}`;
  };
  return {
    problem: 'monitor updates held back',
    count,
    detail: held.slice(0, EXAMPLES).map(what).join('; ') + more(held.length),
    command: 'cawire monitors --stalls',
    frames: frameSet(held.flatMap(({ stall }) => (stall ? [stall.startFrame, stall.endFrame] : []))),
  };
}

function retransmissionProblem(circuits: readonly CircuitSummary[], percent: number): Problem {
  const over = circuits.filter((c) => retransmissionRate(c) * 100 > percent).sort((a, b) => b.retransmissions - a.retransmissions || a.id - b.id);
  const first = (c: CircuitSummary) => Math.min(c.tcpToServer.firstRetransmissionFrame ?? Infinity, c.tcpToClient.firstRetransmissionFrame ?? Infinity);
  return {
    problem: `circuits with retransmissions above ${percent}%`,
    count: over.length,
    detail:
      over
        .slice(0, EXAMPLES)
        .map((c) => {
          const segments = c.tcpToServer.segments + c.tcpToClient.segments;
          return `${c.client} -> ${c.server} ${(100 * retransmissionRate(c)).toFixed(1)}% (${c.retransmissions} of ${segments} segments, first at frame ${first(c)})`;
        })
        .join('; ') + more(over.length),
    command: 'cawire circuits',
    frames: frameSet(over.map(first)),
  };
}
