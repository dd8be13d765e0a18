// `cawire compare CLIENT_SIDE SERVER_SIDE`: the same CA traffic captured at two
// points (A near the clients, B near the servers), matched packet by packet:
// the clock offset, one-way delay per direction, per server and per circuit,
// and what was lost between the points.

import { Option, type Command } from 'commander';
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '../../protocols/ca/constants.js';
import { ipToString } from '../../protocols/ca/ip.js';
import type { MatchRow } from '../compare/matcher.js';
import { UP } from '../compare/packets.js';
import { blame, pairMs, pairsReport, type KindVerdict, type PairVerdict, type PairsReport } from '../compare/pairs.js';
import { compareReport, type CompareReport, type DirectionTotals } from '../compare/report.js';
import { runCompare } from '../compare/run.js';
import { DelayTimeline, type IntervalRow } from '../compare/timeline.js';
import { endpointFilter } from '../dissect/filter.js';
import { plotFormat, timeSeriesSvg, writeSvgPlot } from '../output/plot.js';
import { LineWriter } from '../output/sink.js';
import { formatJsonRows, formatReport, formatTable, type Column, type ReportFormat } from '../output/table.js';
import { formatTime, useCaptureTimes } from '../output/times.js';
import { DESCRIPTIONS } from './commands.js';
import { DURATION_HELP, UsageError, addDisplayOptions, addFilterOptions, durationOption, filterSpec, parsePortList, runCommand, type FilterOptionValues } from './common.js';
import { stoppedBySignals } from './interrupt.js';
import { parseSignedDuration } from './units.js';

interface CompareOptions extends FilterOptionValues {
  json?: boolean;
  csv?: boolean;
  raw?: boolean;
  circuits?: boolean;
  nat?: boolean;
  clockOffset?: number;
  maxDelay?: number;
  ports?: number[];
  interval?: number;
  plot?: string;
  slowerThan?: number;
  quiet?: boolean;
}

/** One row per server (or circuit) and direction. */
interface DirectionRow {
  server: string;
  circuit?: string;
  direction: 'client_to_server' | 'server_to_client';
  t: DirectionTotals;
}

const ms = (x: number): string => (Number.isNaN(x) ? '' : x.toFixed(3));

function directionColumns(withCircuit: boolean): Column<DirectionRow>[] {
  return [
    ...(withCircuit ? [{ title: 'circuit', value: (r: DirectionRow) => r.circuit }] : []),
    { title: 'server', value: (r) => r.server },
    { title: 'direction', value: (r) => r.direction, table: (r) => (r.direction === 'client_to_server' ? 'to server' : 'to client') },
    { title: 'packets', value: (r) => r.t.packets, align: 'right' },
    { title: 'lost', key: 'lost_packets', value: (r) => r.t.lost_packets, align: 'right' },
    { title: 'resent', key: 'lost_then_resent', value: (r) => r.t.lost_then_resent, align: 'right' },
    { title: 'not running', key: 'outside_other_capture', value: (r) => r.t.outside_other_capture, align: 'right' },
    { title: 'only recv', key: 'unmatched_received', value: (r) => r.t.unmatched_received, align: 'right' },
    { title: 'owd min ms', key: 'owd_min_ms', value: (r) => r.t.owd_ms.min, table: (r) => ms(r.t.owd_ms.min), align: 'right' },
    { title: 'p50', key: 'owd_p50_ms', value: (r) => r.t.owd_ms.p50, table: (r) => ms(r.t.owd_ms.p50), align: 'right' },
    { title: 'p90', key: 'owd_p90_ms', value: (r) => r.t.owd_ms.p90, table: (r) => ms(r.t.owd_ms.p90), align: 'right' },
    { title: 'p99', key: 'owd_p99_ms', value: (r) => r.t.owd_ms.p99, table: (r) => ms(r.t.owd_ms.p99), align: 'right' },
    { title: 'max', key: 'owd_max_ms', value: (r) => r.t.owd_ms.max, table: (r) => ms(r.t.owd_ms.max), align: 'right' },
  ];
}

function serverRows(r: CompareReport): DirectionRow[] {
  const rows: DirectionRow[] = [];
  for (const s of r.servers) {
    rows.push({ server: s.server, direction: 'client_to_server', t: s.client_to_server });
    rows.push({ server: s.server, direction: 'server_to_client', t: s.server_to_client });
  }
  return rows;
}

function circuitRows(r: CompareReport): DirectionRow[] {
  const rows: DirectionRow[] = [];
  for (const c of r.circuits) {
    rows.push({ circuit: c.client, server: c.server, direction: 'client_to_server', t: c.client_to_server });
    rows.push({ circuit: c.client, server: c.server, direction: 'server_to_client', t: c.server_to_client });
  }
  return rows;
}

/** The lines before the tables: the offset, each direction's totals. */
function headline(r: CompareReport): string {
  const dir = (name: string, t: DirectionTotals): string => {
    const d = t.owd_ms;
    const delays = d.count ? `one-way delay ms min ${ms(d.min)} p50 ${ms(d.p50)} p90 ${ms(d.p90)} p99 ${ms(d.p99)} max ${ms(d.max)}` : 'no delay measured';
    const extra = [
      t.lost_then_resent ? `${t.lost_then_resent} of them sent again` : '',
      t.outside_other_capture ? `${t.outside_other_capture} sent while the other capture was not running (not loss)` : '',
      t.unmatched_received ? `${t.unmatched_received} received that the sender's capture lacks` : '',
    ].filter(Boolean);
    return `${name}: ${t.packets} packets matched, ${t.lost_packets} lost between the points (${t.lost_tcp_segments} TCP segments, ${t.lost_datagrams} datagrams)${extra.length ? `; ${extra.join('; ')}` : ''}; ${delays}`;
  };
  return [
    `clock offset (A minus B): ${(r.clock_offset_s * 1e3).toFixed(6)} ms, ${r.clock_offset_source}: ${r.clock_offset_how}`,
    dir('client to server', r.client_to_server),
    dir('server to client', r.server_to_client),
  ].join('\n');
}

/** A time of one capture's clock, seconds since the origin, exact to the nanosecond. */
function captureTime(originSec: number, t: number): string {
  const ns = Math.round(t * 1e9);
  const sec = Math.floor(ns / 1e9);
  return formatTime(originSec + sec, ns - sec * 1e9);
}

const rawColumns = (originSec: number): Column<MatchRow>[] => [
  { title: 'direction', value: (m) => (m.dir === UP ? 'client_to_server' : 'server_to_client') },
  { title: 'transport', value: (m) => (m.tcp ? 'tcp' : 'udp') },
  { title: 'frame_a', value: (m) => m.frameA, align: 'right' },
  { title: 'frame_b', value: (m) => m.frameB, align: 'right' },
  { title: 'src', value: (m) => (m.dir === UP ? `${ipToString(m.flowA.srcIp)}:${m.flowA.sport}` : `${ipToString(m.flowB.srcIp)}:${m.flowB.sport}`) },
  { title: 'dst', value: (m) => (m.dir === UP ? `${ipToString(m.flowB.dstIp)}:${m.flowB.dport}` : `${ipToString(m.flowA.dstIp)}:${m.flowA.dport}`) },
  // Each side's own clock.
  { title: 'time_a', value: (m) => captureTime(originSec, m.timeA) },
  { title: 'time_b', value: (m) => captureTime(originSec, m.timeB) },
  {
    title: 'owd_ms',
    value: (m) => Math.round(m.owd * 1e9) / 1e6,
    align: 'right',
  },
  { title: 'resent', value: (m) => m.resent },
];

const KIND_COLUMNS: Column<KindVerdict>[] = [
  { title: 'kind', value: (k) => k.kind },
  { title: 'pairs', value: (k) => k.pairs, align: 'right' },
  { title: 'to server p50 ms', value: (k) => ms(k.to_server_ms.p50), align: 'right' },
  { title: 'max', value: (k) => ms(k.to_server_ms.max), align: 'right' },
  { title: 'server p50 ms', value: (k) => ms(k.server_ms.p50), align: 'right' },
  { title: 'max', value: (k) => ms(k.server_ms.max), align: 'right' },
  { title: 'to client p50 ms', value: (k) => ms(k.to_client_ms.p50), align: 'right' },
  { title: 'max', value: (k) => ms(k.to_client_ms.max), align: 'right' },
  { title: 'waited p50 ms', value: (k) => ms(k.total_ms.p50), align: 'right' },
  { title: 'max', value: (k) => ms(k.total_ms.max), align: 'right' },
];

/** A slow pair: where its time went, with its frames in both captures. */
const slowColumns = (originSec: number): Column<PairVerdict>[] => [
  { title: 'request_time', value: (v) => captureTime(originSec, v.a.request) },
  { title: 'kind', value: (v) => v.kind },
  { title: 'pv', value: (v) => v.pv ?? '' },
  { title: 'client', value: (v) => v.client },
  { title: 'server', value: (v) => v.server },
  { title: 'to_server_ms', value: (v) => pairMs(v.toServer), align: 'right' },
  { title: 'server_ms', value: (v) => pairMs(v.atServer), align: 'right' },
  { title: 'to_client_ms', value: (v) => pairMs(v.toClient), align: 'right' },
  { title: 'total_ms', value: (v) => pairMs(v.total), align: 'right' },
  { title: 'blame', value: (v) => blame(v) },
  { title: 'frames_a', value: (v) => `${v.a.requestFrame},${v.a.responseFrame}` },
  { title: 'frames_b', value: (v) => `${v.b.requestFrame},${v.b.responseFrame}` },
];

const INTERVAL_COLUMNS: Column<IntervalRow>[] = [
  { title: 'time', value: (r) => formatTime(r.sec, r.nsec) },
  { title: 'direction', value: (r) => r.direction },
  { title: 'packets', value: (r) => r.packets, align: 'right' },
  { title: 'lost', key: 'lost_packets', value: (r) => r.lost_packets, align: 'right' },
  { title: 'owd min ms', key: 'owd_min_ms', value: (r) => r.owd_ms.min, table: (r) => ms(r.owd_ms.min), align: 'right' },
  { title: 'p50', key: 'owd_p50_ms', value: (r) => r.owd_ms.p50, table: (r) => ms(r.owd_ms.p50), align: 'right' },
  { title: 'max', key: 'owd_max_ms', value: (r) => r.owd_ms.max, table: (r) => ms(r.owd_ms.max), align: 'right' },
];

/** Rows as JSON objects (the keys and values of the JSON lines format). */
function jsonRows<R>(columns: readonly Column<R>[], rows: readonly R[]): unknown[] {
  return formatJsonRows(columns, rows)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

/** The pairs' line before their table. */
function pairsLine(p: PairsReport): string {
  const only = [p.only_a ? `${p.only_a} only at A` : '', p.only_b ? `${p.only_b} only at B` : ''].filter(Boolean);
  return `request/response pairs seen at both points: ${p.matched}${only.length ? ` (${only.join(', ')})` : ''}; legs: to server, the IOC's own time (at B), to client, and what the client waited`;
}

/** --plot: one-way delay per interval (p50 and max), both directions, losses marked above. */
async function writePlot(file: string, rows: readonly IntervalRow[], timeline: DelayTimeline, start: number): Promise<void> {
  const series = (['client_to_server', 'server_to_client'] as const).flatMap((d) => {
    const mine = rows.filter((r) => r.direction === d && r.packets > 0);
    const name = d === 'client_to_server' ? 'to server' : 'to client';
    return [
      { name: `${name} p50`, points: mine.map((r) => [r.offsetS, r.owd_ms.p50] as const) },
      { name: `${name} max`, points: mine.map((r) => [r.offsetS, r.owd_ms.max] as const) },
    ];
  });
  const marks = [0, 1].map((dir) => {
    const c = timeline.lostAt[dir]!;
    return { name: dir === 0 ? 'lost to server' : 'lost to client', times: Array.from(c.values.subarray(0, c.length), (t) => t - start) };
  });
  await writeSvgPlot(file, timeSeriesSvg(series, { title: 'one-way delay between the points', xTitle: 'seconds from the first packet of A', yTitle: 'one-way delay (ms)', marks }));
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(DESCRIPTIONS.compare)
    .argument('<client-side>', 'capture A, taken near the clients')
    .argument('<server-side>', 'capture B, taken near the servers (the same traffic, at the same time)')
    .addOption(new Option('--json', 'one JSON object: the offset, each direction, each server, each circuit').conflicts('csv'))
    .option('--csv', 'CSV with a header line: a row per server (or circuit) and direction')
    .option('--raw', 'one row per matched packet (frames in both captures, each capture\'s time, one-way delay)')
    .option('--circuits', 'a row per circuit and direction (default: per server)')
    .option('--nat', 'an address translator between the points rewrote addresses and ports: match by sequence numbers and bytes, report each circuit\'s mapping and score')
    .option('--clock-offset <duration>', "A's clock minus B's (0.25s, -300us; 0 for captures sharing a clock); default: estimated", parseSignedDuration)
    .option('--max-delay <duration>', 'how long a sent packet may take before it counts as lost (default 10s)', durationOption({ positive: true }))
    .addOption(new Option('--ports <list>', 'more CA server ports (TCP and UDP), comma-separated').argParser(parsePortList))
    .option('--slower-than <duration>', 'list the request/response pairs the client waited longer than this for (100ms), with their legs and frames in both captures', durationOption({ unitRequired: true }))
    .option('--interval <duration>', 'one-way delay per direction over time, per interval of A\'s clock (1s)', durationOption({ positive: true }))
    .option('--plot <file>', 'draw the one-way delay over time, both directions, losses marked, to FILE.svg or FILE.png')
    .option('-q, --quiet', 'no end-of-run note on stderr')
    .addHelpText(
      'after',
      `
Packets compared: TCP segments with data on CA circuits and UDP datagrams on CA ports, matched by addresses,
ports, sequence number and bytes (--nat: sequence number and bytes). A packet the sender's capture has and the
receiver's never has is lost between the points; one sent while the other capture was not running is not.
The ${DURATION_HELP}.`,
    );
  addFilterOptions(program.commands.at(-1)!, 'only packets (and requests) sent');
  addDisplayOptions(program.commands.at(-1)!);
  program.commands.at(-1)!.action(async (a: string, b: string, o: CompareOptions) => {
    await runCommand(program.opts().debug === true, () =>
      stoppedBySignals(async (stop) => {
        if (a === '-' || b === '-') throw new UsageError('compare reads two capture files (not stdin): it may read them twice');
        const format: ReportFormat = o.json ? 'json' : o.csv ? 'csv' : 'table';
        if (o.plot && !plotFormat(o.plot)) throw new UsageError(`--plot writes .svg or .png files, not '${o.plot}'`);
        if (o.raw && (o.slowerThan !== undefined || o.interval !== undefined)) throw new UsageError('--raw lists matched packets; it does not combine with --slower-than or --interval');
        if (o.csv && o.slowerThan !== undefined && o.interval !== undefined) throw new UsageError('--csv prints one table: --slower-than or --interval, not both');
        const serverPorts = new Set([DEFAULT_SERVER_PORT, ...(o.ports ?? [])]);
        const spec = filterSpec(o);
        const endpoints = endpointFilter(spec);
        const timeline = o.interval !== undefined || o.plot ? new DelayTimeline() : undefined;
        let originSec = 0;
        const out = new LineWriter();
        let rawHeader = false;
        const onMatch = o.raw
          ? (m: MatchRow): void => {
              const row = m;
              if (format === 'table' || format === 'csv') {
                const text = formatReport('csv', rawColumns(originSec), [row]).split('\n');
                if (!rawHeader) out.line(text[0]!);
                out.line(text[1]!);
              } else out.line(formatReport('json', rawColumns(originSec), [row]));
              rawHeader = true;
            }
          : undefined;
        const run = await runCompare([a, b], {
          filter: { serverPorts, repeaterPort: DEFAULT_REPEATER_PORT, nat: o.nat === true, endpoints },
          clockOffset: o.clockOffset,
          horizon: o.maxDelay,
          abort: stop,
          onMatch: onMatch && ((m) => onMatch(m)),
          onDelay: timeline && ((dir, t, raw) => timeline.delay(dir, t, raw)),
          onLost: timeline && ((dir, t) => timeline.lost(dir, t)),
          onStart: (origin, captures) => {
            originSec = origin;
            useCaptureTimes(captures);
          },
          pairs: !o.raw,
          spec,
        });
        const report = compareReport(run, serverPorts, DEFAULT_SERVER_PORT);
        if (report.client_to_server.packets + report.server_to_client.packets === 0) {
          throw new UsageError(`${a} and ${b} have no CA packet in common: nothing to compare`);
        }
        const theta = run.offset.offset;
        const verdicts = run.verdicts ?? [];
        const pairs = run.pairsSeen && pairsReport(verdicts, run.pairsSeen[0], run.pairsSeen[1]);
        const slow = o.slowerThan === undefined ? undefined : verdicts.filter((v) => v.total > o.slowerThan!).sort((x, y) => x.a.request - y.a.request);
        const start = Number.isFinite(run.window.from) ? run.window.from : report.captures[0]!.first_s;
        let intervals: IntervalRow[] | undefined;
        if (timeline) {
          // --plot alone: about 200 intervals over the capture.
          const span = timeline.span();
          const seconds = o.interval ?? Math.max(0.001, Number(((span.last - start) / 200).toPrecision(1)) || 1);
          intervals = timeline.rows(seconds, start, run.originSec, theta);
        }
        if (!o.raw) {
          const rows = o.circuits ? circuitRows(report) : serverRows(report);
          const none = (what: string): string => (o.slowerThan === undefined ? `no ${what} found` : `no pairs slower than ${o.slowerThan * 1e3} ms found`);
          if (format === 'json') {
            const extra = {
              pairs,
              ...(slow ? { slow_pairs: jsonRows(slowColumns(run.originSec), slow) } : {}),
              ...(intervals && o.interval !== undefined ? { intervals: jsonRows(INTERVAL_COLUMNS, intervals) } : {}),
            };
            out.line(JSON.stringify({ ...report, ...extra }));
          } else if (format === 'csv') {
            if (slow) out.line(formatReport('csv', slowColumns(run.originSec), slow, none('pairs')).trimEnd());
            else if (intervals && o.interval !== undefined) out.line(formatReport('csv', INTERVAL_COLUMNS, intervals, none('intervals')).trimEnd());
            else out.line(formatReport('csv', directionColumns(o.circuits === true), rows).trimEnd());
          } else {
            out.line(headline(report));
            out.line('');
            out.line(formatTable(directionColumns(o.circuits === true), rows, undefined, 'no packets matched').trimEnd());
            if (pairs) {
              out.line('');
              out.line(pairsLine(pairs));
              out.line(formatTable(KIND_COLUMNS, pairs.by_kind, undefined, 'no request/response pairs seen at both points').trimEnd());
            }
            if (slow) {
              out.line('');
              out.line(formatTable(slowColumns(run.originSec), slow, undefined, none('pairs')).trimEnd());
            }
            if (intervals && o.interval !== undefined) {
              out.line('');
              out.line(formatTable(INTERVAL_COLUMNS, intervals, undefined, 'no intervals found').trimEnd());
            }
            if (o.nat) {
              out.line('');
              out.line(
                formatTable(
                  [
                    { title: 'client at A', value: (c: CompareReport['circuits'][number]) => c.client },
                    { title: 'server at A', value: (c) => c.server },
                    { title: 'client at B', value: (c) => c.client_at_b },
                    { title: 'server at B', value: (c) => c.server_at_b },
                    { title: 'score', value: (c) => c.match_score, align: 'right' },
                  ],
                  report.circuits,
                  undefined,
                  'no circuits matched',
                ).trimEnd(),
              );
            }
          }
        }
        await out.end();
        if (o.plot && intervals && timeline) {
          await writePlot(o.plot, intervals, timeline, start);
          if (!o.quiet) process.stderr.write(`cawire: wrote ${o.plot}\n`);
        }
        if (!o.quiet && !out.closed) {
          const notes: string[] = [];
          if (spec.pv) notes.push('--pv selects the request/response pairs only: the packet counts cover every PV (a packet carries many)');
          for (const [i, c] of run.captures.entries()) {
            const name = i === 0 ? a : b;
            if (c.truncated) notes.push(`${name}: capture ends early at byte ${c.truncated.atByte} (${c.truncated.reason}); compared everything before it`);
            // Stopped past the --duration/--until window on purpose: nothing to say.
            if (c.stoppedBy && !c.stoppedAtWindow) notes.push(`${name}: read cut short by ${c.stoppedBy}; the report covers what was read`);
          }
          const [sa, sb] = report.captures;
          if (sa && sb && (Math.abs(sa.first_s - sb.first_s) > 1 || Math.abs(sa.last_s - sb.last_s) > 1)) {
            notes.push(
              `the captures overlap only partly (on A's clock, A ${sa.first_s.toFixed(3)}..${sa.last_s.toFixed(3)} s, B ${sb.first_s.toFixed(3)}..${sb.last_s.toFixed(3)} s after ${run.originSec}): packets sent while the other was not running are not counted as lost`,
            );
          }
          if (run.fragments[0] + run.fragments[1] > 0) notes.push(`${run.fragments[0] + run.fragments[1]} IP fragments not compared`);
          for (const n of notes) process.stderr.write(`cawire: ${n}\n`);
        }
      }),
    );
  });
}
