// `cawire export` as an analysis of the one runner (src/analysis/runner.ts): every
// CA message becomes a row of `messages` as it comes; `pairs` are the latency
// analysis's records (every kind) as it pairs them, then its unanswered requests;
// `circuits`, `stalls`, `subscriptions`, `searches` and `beacons` are those reports' rows at the end. A
// worker thread builds the same analysis by name (src/analysis/registry.ts), so
// several files are exported in parallel; the files it writes are staged, and
// only the main thread moves them into the dataset (commit.ts).
//
// `stalls` are the tcp report's (its analysis also gives the circuits' rows),
// `subscriptions` the monitors report's. Another table: its TableSpec in
// schema.ts, its analysis in the CompositeAnalysis below, and a function that
// writes its rows at finish() like circuit() and stall().

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { DataMessage } from '../../protocols/ca/message-base.js';
import { epicsStampNanoseconds, epicsStampUnixSeconds } from '../../protocols/ca/time.js';
import { CompositeAnalysis, type Analysis } from '../analysis/analysis.js';
import { BeaconAnalysis, type BeaconReport } from '../analysis/beacons.js';
import type { CircuitSummary } from '../analysis/circuits.js';
import { TcpAnalysis, type TcpPart, type TcpStall } from '../analysis/tcp.js';
import { MonitorAnalysis, type MonitorRow } from '../analysis/monitors.js';
import { CMD } from '../../protocols/ca/constants.js';
import { isMonitorUpdate } from '../../protocols/ca/circuit.js';
import type { DeclinedMessage } from '../dissect/options.js';
import { LatencyAnalysis } from '../analysis/latency.js';
import { PAIR_KINDS, type PairRecord, type Unanswered } from '../analysis/pairing.js';
import { SearchAnalysis, type NameSearches } from '../analysis/searches.js';
import type { CaEvent, CaEventOf } from '../dissect/event.js';
import type { MessageSelection } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';
import { DEFAULT_ROW_GROUP_ROWS, TableWriter, type PartitionFile } from './parquet-writer.js';
import { TABLES, type TableName, type TableSpec } from './schema.js';

export interface ExportOptions {
  /** the staging folder files are written under */
  staging: string;
  /** the host partition's value */
  host: string;
  /** this run's id (in every file name, so two runs never write the same name) */
  run: string;
  /** the capture's key (file names part-KEY-…): default, from the first file's name (captureKey) */
  key?: string;
  rowGroupRows?: number;
}

/** What one capture's export wrote (structured-clone-able). */
export interface ExportPart {
  /** capture keys written: a re-export replaces the files of these keys */
  keys: string[];
  /** staged files, relative to the dataset folder, with their rows */
  files: { relative: string; rows: number }[];
  rows: Record<TableName, number>;
}

/** The key of a capture (or of rotated files read as one): a hash of the file names, so re-exporting them replaces their files. */
export function captureKey(paths: readonly string[]): string {
  const names = paths.map((p) => (p === '-' ? `stdin-${process.pid}-${Date.now()}` : basename(p))).sort();
  return createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 12);
}

/** A column's index in its table, by name. */
function indexer(t: TableSpec): (name: string) => number {
  return (name) => {
    const i = t.columns.findIndex((c) => c.name === name);
    if (i < 0) throw new Error(`export: table ${t.name} has no column ${name}`);
    return i;
  };
}

const TABLE = Object.fromEntries(TABLES.map((t) => [t.name, t])) as Record<TableName, TableSpec>;

/** Column indexes of messages (set once). */
const M = (() => {
  const i = indexer(TABLE.messages);
  return {
    time: i('time'), frame: i('frame'), file: i('file'), transport: i('transport'), src: i('src'), sport: i('sport'), dst: i('dst'), dport: i('dport'),
    circuit: i('circuit'), direction: i('direction'), type: i('type'), code: i('code'), pv: i('pv'), size: i('size'), payloadSize: i('payload_size'),
    dataType: i('data_type'), dataCount: i('data_count'), p1: i('parameter1'), p2: i('parameter2'), status: i('status'), value: i('value'),
    valueText: i('value_text'), elements: i('elements'), epicsTime: i('epics_time'), severity: i('severity'), alarmStatus: i('alarm_status'),
  };
})();

/** Column indexes of pairs. */
const P = (() => {
  const i = indexer(TABLE.pairs);
  return {
    file: i('file'), kind: i('kind'), pv: i('pv'), client: i('client'), server: i('server'), circuit: i('circuit'), requestTime: i('request_time'),
    responseTime: i('response_time'), requestFrame: i('request_frame'), responseFrame: i('response_frame'), latencyMs: i('latency_ms'), outcome: i('outcome'),
    unanswered: i('unanswered'),
  };
})();

/** DBR elements kept in `elements`. */
const ELEMENTS = 8;

/** The part of an export: its rows as Parquet, written as they come. */
export class ExportAnalysis implements Analysis<ExportPart> {
  private readonly latency: LatencyAnalysis;
  /** the tcp report's analysis: the circuits' rows and their stalls with the PVs held back */
  private readonly tcp = new TcpAnalysis({});
  /** the monitors report's analysis: one row per subscription (its updates through updateView) */
  private readonly monitors = new MonitorAnalysis();
  private readonly view = { command: CMD.EVENT_ADD, fromClient: false } as DeclinedMessage;
  private readonly searches = new SearchAnalysis();
  private readonly beacons = new BeaconAnalysis();
  private readonly others: CompositeAnalysis<Record<string, unknown>>;
  private readonly writers = {} as Record<TableName, TableWriter>;
  private file = '-';
  private key?: string;
  /** frame offsets at which each file of a joined read begins, and its name */
  private readonly fileStarts: { offset: number; name: string }[] = [];

  constructor(private readonly o: ExportOptions) {
    this.key = o.key;
    this.latency = new LatencyAnalysis({ kinds: PAIR_KINDS, keepRecords: 0, onRecord: (r) => this.pair(r) });
    this.others = new CompositeAnalysis<Record<string, unknown>>({
      latency: this.latency,
      tcp: this.tcp,
      searches: this.searches,
      beacons: this.beacons,
      monitors: this.monitors,
    });
  }

  /** Every message whole (for its row); the TCP analysis for the circuits. */
  selection(): MessageSelection {
    const s = this.others.selection();
    return { copyMessages: s.copyMessages, tcpAnalysis: s.tcpAnalysis, segments: s.segments };
  }

  started(clock: Parameters<NonNullable<Analysis<unknown>['started']>>[0]): void {
    this.latency.started(clock);
    this.monitors.started(clock);
  }

  fileStarted(path: string, frameOffset: number): void {
    this.file = path === '-' ? '-' : basename(path);
    this.fileStarts.push({ offset: frameOffset, name: this.file });
    this.key ??= captureKey([path]);
  }

  /** The file a frame of the (joined) capture came from. */
  private fileOf(frame: number): string {
    const starts = this.fileStarts;
    for (let k = starts.length - 1; k >= 0; k--) if (frame > starts[k]!.offset) return starts[k]!.name;
    return starts[0]?.name ?? '-';
  }

  private writer(name: TableName): TableWriter {
    this.key ??= captureKey(['-']);
    return (this.writers[name] ??= new TableWriter(TABLE[name], this.o.staging, this.o.host, `part-${this.key}-${this.o.run}`, this.o.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS));
  }

  event(ev: CaEvent): void {
    this.message(ev);
    this.others.event(ev);
    // Every message comes whole here: a monitor update goes to the monitors analysis as the header-word view it reads.
    if (ev.type === 'EventAddResponse' && ev.circuit && isMonitorUpdate(CMD.EVENT_ADD, false, ev.command.payloadSize)) this.monitors.update(this.updateView(ev));
  }

  /** A monitor update event as the view MonitorAnalysis.update reads (one object, refilled). */
  private updateView(ev: CaEventOf<'EventAddResponse'>): DeclinedMessage {
    const m = ev.command;
    const v = this.view;
    v.payloadSize = m.payloadSize;
    v.dataType = m.data_type;
    v.dataCount = m.data_count;
    v.parameter1 = m.parameter1;
    v.parameter2 = m.parameter2;
    v.circuit = ev.circuit!;
    v.buf = m.buf;
    v.payloadOffset = m.payloadOffset;
    v.sec = ev.tsSec;
    v.nsec = ev.tsNsec;
    v.time = ev.timestamp;
    v.frame = ev.frame;
    return v;
  }

  circuitEnded(c: Parameters<NonNullable<Analysis<unknown>['circuitEnded']>>[0]): void {
    this.others.circuitEnded(c);
  }

  private message(ev: CaEvent): void {
    const p = this.writer('messages').at(ev.tsSec);
    const m = ev.command;
    p.time(M.time, ev.tsSec, ev.tsNsec);
    p.int(M.frame, ev.frame);
    p.str(M.file, this.file);
    p.str(M.transport, ev.transport);
    p.str(M.src, ev.src);
    p.int(M.sport, ev.sport);
    p.str(M.dst, ev.dst);
    p.int(M.dport, ev.dport);
    if (ev.circuit) p.int(M.circuit, ev.circuit.id);
    else p.none(M.circuit);
    p.str(M.direction, ev.direction);
    p.str(M.type, ev.type);
    p.int(M.code, m.command);
    if (ev.pv !== undefined) p.str(M.pv, ev.pv);
    else p.none(M.pv);
    p.int(M.size, m.size);
    p.int(M.payloadSize, m.payloadSize);
    p.int(M.dataType, m.dataTypeField);
    p.int(M.dataCount, m.dataCountField);
    p.int(M.p1, m.parameter1);
    p.int(M.p2, m.parameter2);
    const status = m.fields.includes('status') ? (m as unknown as { status: unknown }).status : undefined;
    if (typeof status === 'number') p.int(M.status, status);
    else p.none(M.status);
    if (m instanceof DataMessage) dataColumns(p, m);
    else for (const i of [M.value, M.valueText, M.elements, M.epicsTime, M.severity, M.alarmStatus]) p.none(i);
    p.end();
  }

  private pair(r: PairRecord): void {
    const p = this.writer('pairs').at(Math.floor(r.requestTime));
    pairCommon(p, this.fileOf(r.requestFrame), r);
    p.seconds(P.requestTime, r.requestTime);
    p.seconds(P.responseTime, r.responseTime);
    p.int(P.requestFrame, r.requestFrame);
    p.int(P.responseFrame, r.responseFrame);
    p.double(P.latencyMs, r.latency * 1000);
    p.str(P.outcome, r.outcome);
    p.bool(P.unanswered, false);
    p.end();
  }

  private unanswered(u: Unanswered): void {
    const p = this.writer('pairs').at(Math.floor(u.requestTime));
    pairCommon(p, this.fileOf(u.requestFrame), { ...u, server: u.server ?? '', circuit: undefined });
    p.seconds(P.requestTime, u.requestTime);
    p.none(P.responseTime);
    p.int(P.requestFrame, u.requestFrame);
    p.none(P.responseFrame);
    p.none(P.latencyMs);
    p.str(P.outcome, u.reason);
    p.bool(P.unanswered, true);
    p.end();
  }

  finish(result: DissectResult): ExportPart {
    const parts = this.others.finish(result) as { latency: { unanswered: Unanswered[] }; tcp: TcpPart; searches: { names: NameSearches[] }; beacons: BeaconReport; monitors: MonitorRow[] };
    for (const r of parts.monitors) this.subscription(r);
    for (const u of parts.latency.unanswered) this.unanswered(u);
    for (const row of parts.tcp.rows) {
      this.circuit(row.circuit);
      for (const s of row.stalls) this.stall(row.circuit, s);
    }
    for (const n of parts.searches.names) this.search(n);
    for (const b of parts.beacons.servers) this.beacon(b);
    const files = Object.values(this.writers).flatMap((w) => w.close());
    const rows = Object.fromEntries(TABLES.map((t) => [t.name, 0])) as Record<TableName, number>;
    for (const f of files) rows[f.relative.split('/')[0] as TableName] += f.rows;
    return { keys: this.key ? [this.key] : [], files, rows };
  }

  private circuit(c: CircuitSummary): void {
    const p = this.writer('circuits').at(Math.floor(c.start));
    const values: (string | number | undefined)[] = [
      this.fileOf(c.startFrame ?? c.firstMessage?.frame ?? 0), c.id, c.client, c.server, c.hostName, c.userName, c.clientVersion, c.serverVersion, c.priority,
    ];
    values.forEach((v, i) => cell(p, i, v));
    p.seconds(9, c.start);
    optInt(p, 10, c.startFrame);
    if (c.end !== undefined) p.seconds(11, c.end);
    else p.none(11);
    optInt(p, 12, c.endFrame);
    p.seconds(13, c.lastSeen);
    optDouble(p, 14, c.handshakeRtt === undefined ? undefined : c.handshakeRtt * 1000);
    const counts = [
      c.caBytesToServer, c.caBytesToClient, c.wireBytesToServer, c.wireBytesToClient, c.created.length, c.cleared.length, c.createFailed.length,
      c.subscriptions, c.cancelled, c.updates, c.echoRequests, c.echoResponses, c.retransmissions, c.gaps, c.stallCount,
    ];
    counts.forEach((v, k) => p.int(15 + k, v));
    cell(p, 30, c.endedBy);
    cell(p, 31, c.rstBy);
    p.end();
  }

  private subscription(r: MonitorRow): void {
    const p = this.writer('subscriptions').at(r.first.sec);
    p.str(0, this.fileOf(r.first.frame));
    p.int(1, r.circuit);
    p.str(2, r.client);
    p.str(3, r.server);
    p.str(4, r.pv);
    p.int(5, r.subscriptionId ?? 0);
    p.int(6, r.dataType);
    p.int(7, r.dataCount);
    optInt(p, 8, r.mask);
    p.bool(9, r.cancelled);
    p.int(10, r.updates);
    p.int(11, r.bytes);
    p.time(12, r.first.sec, r.first.nsec);
    p.int(13, r.first.frame);
    p.time(14, r.last.sec, r.last.nsec);
    p.int(15, r.last.frame);
    p.double(16, r.rateHz);
    optDouble(p, 17, r.longestGapS);
    optInt(p, 18, r.longestGapFrames?.[0]);
    optInt(p, 19, r.longestGapFrames?.[1]);
    p.int(20, r.stallCount);
    optList(p, 21, r.stalls.map((s) => s.cause), ', ');
    p.end();
  }

  private stall(c: CircuitSummary, s: TcpStall): void {
    const p = this.writer('stalls').at(s.startSec);
    p.str(0, this.fileOf(s.startFrame));
    p.int(1, c.id);
    p.str(2, c.client);
    p.str(3, c.server);
    p.str(4, s.side);
    p.time(5, s.startSec, s.startNsec);
    p.int(6, s.startFrame);
    if (s.endSec !== undefined) p.time(7, s.endSec, s.endNsec!);
    else p.none(7);
    optInt(p, 8, s.endFrame);
    // From the exact times when it ended (the float ones differ in the last digits).
    p.double(9, s.endSec === undefined ? s.seconds : ((s.endSec - s.startSec) * 1e9 + (s.endNsec! - s.startNsec)) / 1e9);
    p.int(10, s.probes);
    p.int(11, s.advertisements);
    optInt(p, 12, s.waitingBytes);
    optList(p, 13, s.heldPvs, ' ');
    p.end();
  }

  private search(n: NameSearches): void {
    const p = this.writer('searches').at(n.first.sec);
    p.str(0, this.fileOf(n.first.frame));
    p.str(1, n.name);
    p.int(2, n.searches);
    p.int(3, n.clients.size);
    p.time(4, n.first.sec, n.first.nsec);
    p.int(5, n.first.frame);
    p.time(6, n.last.sec, n.last.nsec);
    p.int(7, n.last.frame);
    p.int(8, n.servers.size);
    optList(p, 9, [...n.servers.keys()], ' ');
    p.int(10, [...n.servers.values()].reduce((k, s) => k + s.replies, 0));
    p.end();
  }

  private beacon(b: BeaconReport['servers'][number]): void {
    const p = this.writer('beacons').at(b.first.sec);
    p.str(0, this.fileOf(b.first.frame));
    p.str(1, b.server);
    p.int(2, b.version);
    p.int(3, b.beacons);
    p.int(4, b.copies);
    p.time(5, b.first.sec, b.first.nsec);
    p.int(6, b.first.frame);
    p.time(7, b.last.sec, b.last.nsec);
    p.int(8, b.last.frame);
    p.int(9, b.missed);
    p.int(10, b.restarts.length);
    p.int(11, b.silences.length);
    p.int(12, b.anomalies.length);
    p.end();
  }
}

/** file, kind, pv, client, server, circuit: the columns a pair and an unanswered request share. */
function pairCommon(p: PartitionFile, file: string, r: { kind: string; pv?: string; client: string; server: string; circuit?: number }): void {
  p.str(P.file, file);
  p.str(P.kind, r.kind);
  cell(p, P.pv, r.pv);
  p.str(P.client, r.client);
  p.str(P.server, r.server);
  optInt(p, P.circuit, r.circuit);
}

/** A nullable cell: a string or a number as its column takes it, or null. */
function cell(p: PartitionFile, i: number, v: string | number | undefined): void {
  if (v === undefined) p.none(i);
  else if (typeof v === 'string') p.str(i, v);
  else p.int(i, v);
}

function optInt(p: PartitionFile, i: number, v: number | undefined): void {
  if (v === undefined) p.none(i);
  else p.int(i, v);
}

function optDouble(p: PartitionFile, i: number, v: number | undefined): void {
  if (v === undefined) p.none(i);
  else p.double(i, v);
}

/** A list as one string column, its items joined by `sep`; null when it is empty. */
function optList(p: PartitionFile, i: number, items: readonly string[], sep: string): void {
  if (items.length) p.str(i, items.join(sep));
  else p.none(i);
}

/** value, value_text, elements, epics_time, severity, alarm_status of a DBR payload. */
function dataColumns(p: PartitionFile, m: DataMessage): void {
  const d = m.preview(ELEMENTS);
  const values = d.values;
  const first = values[0];
  if (typeof first === 'number') p.double(M.value, first);
  else p.none(M.value);
  if (typeof first === 'string') p.str(M.valueText, first);
  else p.none(M.valueText);
  if (values.length) p.str(M.elements, values.slice(0, ELEMENTS).join(typeof first === 'string' ? '|' : ' '));
  else p.none(M.elements);
  const md = d.metadata;
  if (md.secPastEpoch !== undefined) p.time(M.epicsTime, epicsStampUnixSeconds(md.secPastEpoch, md.nsec ?? 0), epicsStampNanoseconds(md.nsec ?? 0));
  else p.none(M.epicsTime);
  optInt(p, M.severity, md.severity);
  optInt(p, M.alarmStatus, md.status);
}
