// What casw tells, and more: per server, the beacons seen, their intervals,
// sequence gaps, restarts and silences, and the anomalies that make every client
// re-search, by the rule libca and casw use (ca-protocol-notes §9, §9.1, §12).

import { DEFAULT_SERVER_PORT } from '../../protocols/ca/constants.js';
import { Beacon } from '../../protocols/ca/messages.js';
import type { CaEvent } from '../dissect/event.js';
import type { MessageSelection } from '../dissect/options.js';
import { momentOf, type Moment } from './moment.js';

/**
 * The same beacon id from the same server on another path within this many
 * seconds is a copy of one beacon (relayed by a caRepeater, or sent to several
 * beacon addresses), counted once. A second beacon with the same id on the same
 * path is a beacon of its own: a freshly started RSRV sends id 0 twice.
 */
export const BEACON_COPY_WINDOW_SEC = 1;

/** Default bound for a silence: EPICS_CA_CONN_TMO, after which connected clients probe the server. */
export const DEFAULT_SILENCE_SEC = 30;

/** A beacon id going back to at most this (not by wrapping around) is a server restart. */
export const RESTART_MAX_ID = 10;

/** Beacon ids carry a sequence from CA minor version 10 (V4.10) on. */
const SEQUENCED_MINOR = 10;
const ID_RANGE = 2 ** 32;
/** libca discards a beacon whose id is this close behind the last one (a duplicate route). */
const BEHIND_WINDOW = 256;

/** What the libca rule made of a beacon. */
export type BeaconVerdict =
  /** first beacon of the server: recorded */
  | 'first'
  /** discarded: same id as the last one */
  | 'duplicate'
  /** discarded: id less than 256 behind the last one */
  | 'behind'
  /** discarded: id 2 or 3 ahead (duplicate route or queue overrun) */
  | 'skip'
  /** accepted: period compared with the running average */
  | 'accepted';

export interface BeaconRecord {
  /** address:port of the server, from the beacon (address 0 = the datagram's source; port 0 = 5064) */
  server: string;
  id: number;
  /** server's CA minor version */
  version: number;
  at: Moment;
  /** copies of this beacon seen on other paths */
  copies: number;
  verdict: BeaconVerdict;
  /** seconds since the server's last accepted beacon (accepted beacons) */
  period?: number;
  /** libca's running average period before this beacon (undefined until the second accepted beacon) */
  estimate?: number;
  /** the period reached 1.25 x the average: libca checks the health of its circuits to this server */
  missing: boolean;
  /** a beacon anomaly (libca's netChange, what casw prints): clients re-search their unresolved channels */
  anomaly: boolean;
  /** ids skipped since the previous beacon of this server (beacons lost on the way or by the capture) */
  missed: number;
  /** the id went back to a small value: the server restarted */
  restart: boolean;
}

export interface BeaconSilence {
  server: string;
  /** the beacon before the silence */
  from: Moment;
  /** the beacon that ended it; undefined when the capture ended first */
  to?: Moment;
  seconds: number;
}

export interface BeaconServer {
  server: string;
  version: number;
  beacons: number;
  copies: number;
  first: Moment;
  last: Moment;
  /** seconds between consecutive beacons, sorted */
  intervals: number[];
  /** beacons after a jump in the sequence, and how many ids each skipped */
  gaps: BeaconRecord[];
  missed: number;
  restarts: BeaconRecord[];
  silences: BeaconSilence[];
  anomalies: BeaconRecord[];
}

export interface BeaconReport {
  servers: BeaconServer[];
  /** every beacon counted, in capture order (copies merged) */
  timeline: BeaconRecord[];
  /** copies merged into a beacon seen on another path */
  copies: number;
}

/** libca's per-server beacon state (bhe.cpp), exactly as §9.1 of the notes gives it. */
class LibcaBeaconState {
  private lastId = 0;
  private lastTime = 0;
  private average: number | undefined;
  /** how long the program (the capture) had been running when the first beacon came */
  private runningAtFirst = 0;
  private seen = false;

  /** Applies the rule to one beacon and fills in the record's verdict, period, estimate and flags. */
  observe(b: BeaconRecord, captureStart: number): void {
    const time = b.at.time;
    if (!this.seen) {
      this.seen = true;
      this.lastId = b.id;
      this.lastTime = time;
      this.runningAtFirst = time - captureStart;
      b.verdict = 'first';
      return;
    }
    if (b.version >= SEQUENCED_MINOR) {
      const advance = (b.id - this.lastId + ID_RANGE) % ID_RANGE;
      this.lastId = b.id;
      const discarded = advance === 0 ? 'duplicate' : advance > ID_RANGE - BEHIND_WINDOW ? 'behind' : advance === 2 || advance === 3 ? 'skip' : undefined;
      if (discarded) {
        b.verdict = discarded;
        return;
      }
    }
    const period = time - this.lastTime;
    b.verdict = 'accepted';
    b.period = period;
    b.estimate = this.average;
    if (this.average === undefined) {
      b.anomaly = period <= this.runningAtFirst;
      this.average = period;
    } else {
      const a = this.average;
      if (period >= 1.25 * a) {
        b.missing = true;
        b.anomaly = period >= 3.25 * a;
      } else if (period <= 0.8 * a) {
        b.anomaly = true;
      }
      this.average = 0.125 * period + 0.875 * a;
    }
    this.lastTime = time;
  }
}

/** A beacon counted in the last BEACON_COPY_WINDOW_SEC, and the paths (src>dst endpoints) it came on. */
interface RecentBeacon {
  record: BeaconRecord;
  paths: Set<string>;
}

interface ServerState {
  rule: LibcaBeaconState;
  records: BeaconRecord[];
  recent: RecentBeacon[];
  copies: number;
}

/** Collects beacons; `finish()` gives the report. */
export class BeaconAnalysis {
  private readonly servers = new Map<string, ServerState>();
  private readonly timeline: BeaconRecord[] = [];
  private captureStart: number | undefined;
  private captureEnd = 0;
  private copies = 0;

  constructor(private readonly silenceBound = DEFAULT_SILENCE_SEC) {}

  /** Every event of the capture: the first and last give the capture's span. */
  event(ev: CaEvent): void {
    this.seenAt(ev.timestamp);
    if (ev.command instanceof Beacon) this.beacon(ev, ev.command);
  }

  /** What the report reads, as dissection options: no TCP message whole, only each one's time (declined). */
  selection(): MessageSelection {
    return {
      wants: () => false,
      declined: (m) => {
        this.seen(m);
        return false;
      },
      copyMessages: true,
    };
  }

  /**
   * A CA message known by its time (a declined message's view): the capture's span,
   * which bounds when beacons were due. The object, not the float: see extendSpanAt.
   */
  seen(m: { readonly time: number }): void {
    this.seenAt(m.time);
  }

  /** A CA message at capture time t (Unix seconds). */
  private seenAt(t: number): void {
    this.captureStart ??= t;
    if (t > this.captureEnd) this.captureEnd = t;
  }

  private beacon(ev: CaEvent, m: Beacon): void {
    const server = `${m.parameter2 === 0 ? ev.src : m.address}:${m.server_port || DEFAULT_SERVER_PORT}`;
    const path = `${ev.src}:${ev.sport}>${ev.dst}:${ev.dport}`;
    let state = this.servers.get(server);
    if (!state) this.servers.set(server, (state = { rule: new LibcaBeaconState(), records: [], recent: [], copies: 0 }));
    const now = ev.timestamp;
    state.recent = state.recent.filter((r) => now - r.record.at.time <= BEACON_COPY_WINDOW_SEC);
    const original = state.recent.findLast((r) => r.record.id === m.beacon_id && !r.paths.has(path));
    if (original) {
      original.paths.add(path);
      original.record.copies++;
      state.copies++;
      this.copies++;
      return;
    }
    const previous = state.records[state.records.length - 1];
    const record: BeaconRecord = {
      server,
      id: m.beacon_id,
      version: m.version,
      at: momentOf(ev),
      copies: 0,
      verdict: 'first',
      missing: false,
      anomaly: false,
      missed: 0,
      restart: false,
    };
    if (previous) {
      const back = previous.id - record.id;
      // Going back to a small id is a restart; from near 2^32 to a small id is the counter wrapping.
      record.restart = back > 0 && record.id <= RESTART_MAX_ID && back < ID_RANGE - BEHIND_WINDOW;
      const advance = (record.id - previous.id + ID_RANGE) % ID_RANGE;
      if (record.version >= SEQUENCED_MINOR && !record.restart && advance > 1 && advance < ID_RANGE / 2) record.missed = advance - 1;
    }
    state.rule.observe(record, this.captureStart!);
    state.records.push(record);
    state.recent.push({ record, paths: new Set([path]) });
    this.timeline.push(record);
  }

  /** --every: finish leaves the analysis as it was, so the report so far is its finish. */
  snapshot(): BeaconReport {
    return this.finish();
  }

  finish(): BeaconReport {
    const servers: BeaconServer[] = [];
    for (const [server, state] of this.servers) {
      const records = state.records;
      const first = records[0]!;
      const last = records[records.length - 1]!;
      const intervals = records.slice(1).map((r, i) => r.at.time - records[i]!.at.time);
      const silences: BeaconSilence[] = [];
      for (let i = 1; i < records.length; i++) {
        const seconds = intervals[i - 1]!;
        if (seconds > this.silenceBound) silences.push({ server, from: records[i - 1]!.at, to: records[i]!.at, seconds });
      }
      if (this.captureEnd - last.at.time > this.silenceBound) silences.push({ server, from: last.at, seconds: this.captureEnd - last.at.time });
      const gaps = records.filter((r) => r.missed > 0);
      servers.push({
        server,
        version: last.version,
        beacons: records.length,
        copies: state.copies,
        first: first.at,
        last: last.at,
        intervals: [...intervals].sort((a, b) => a - b),
        gaps,
        missed: gaps.reduce((n, r) => n + r.missed, 0),
        restarts: records.filter((r) => r.restart),
        silences,
        anomalies: records.filter((r) => r.anomaly),
      });
    }
    servers.sort((a, b) => a.first.time - b.first.time || a.first.frame - b.first.frame);
    return { servers, timeline: this.timeline, copies: this.copies };
  }
}

