// `cawire tcp`: one row per CA circuit of what TCP did in it (round trips, bytes,
// losses, windows, flow-control stalls and what they held back); `--trace N` one
// circuit packet by packet, `--plot` its windows over time.

import { Option, type Command } from 'commander';
import { resetCircuits, stallText, type TcpDirectionSummary } from '../analysis/circuits.js';
import type { TcpCircuitRow, TcpPart, TcpSideSummary, TcpStall, TraceRow } from '../analysis/tcp.js';
import type { RttStats } from '../analysis/tcp-rtt.js';
import { TcpFlag } from '../net/tcp-analysis.js';
import { jsonSafe } from '../output/non-finite.js';
import { plotFormat, timeSeriesSvg, writeSvgPlot } from '../output/plot.js';
import { formatReport, formatTable, jsonRowStart, tableLayout, type Column, type ReportFormat } from '../output/table.js';
import { formatTime } from '../output/times.js';
import { safeText } from '../output/values.js';
import { DESCRIPTIONS } from './commands.js';
import { UsageError, durationOption } from './common.js';
import { filedRows, type ReportInput } from './report-run.js';
import { RESET_COLUMNS, formatOf, positiveInteger, readAndRender, reportCommand, rowsReport, runReport, writeReport, type ReportOptions } from './reports.js';

interface TcpCliOptions extends ReportOptions {
  trace?: number;
  plot?: string;
  slowHandshake?: number;
  endedByRst?: boolean;
}

const round = (x: number | undefined, digits: number): number | undefined => (x === undefined ? undefined : Number(x.toFixed(digits)));
const ms = (seconds: number | undefined): number | undefined => round(seconds === undefined ? undefined : seconds * 1000, 3);
const both = (a: number | string | undefined, b: number | string | undefined): string => `${a ?? '?'}/${b ?? '?'}`;

/** 'min/p50/p90/max' in ms, or '' without samples. */
function rttText(r: RttStats | undefined): string {
  return r ? [r.min, r.p50, r.p90, r.max].map((v) => v.toFixed(2)).join('/') : '';
}

/** A side's window scale and smallest window: '7', 'none', or 'unknown' (windows then unscaled, marked '?'). */
function windowText(s: TcpSideSummary): string {
  const min = s.minWindow === undefined ? '?' : `${s.minWindow}${s.windowScale === 'unknown' ? '?' : ''}`;
  return `${min} (scale ${s.windowScale})`;
}

/** A stall with what it held back, in words. */
function stallLine(s: TcpStall): string {
  const waiting = s.waitingBytes === undefined ? '' : `, ${s.waitingBytes} B waiting`;
  const held = s.heldPvs.length ? `, held back: ${s.heldPvs.map(safeText).join(' ')}` : '';
  return `${stallText(s)}${waiting}${held}`;
}

/** One count of the circuits report's TCP analysis per direction: `key_to_server` (segments the client sent), `key_to_client`. */
function perDirection(title: string, key: string, pick: (d: TcpDirectionSummary) => number): Column<TcpCircuitRow>[] {
  return [
    { title: `${title} to server`, key: `${key}_to_server`, value: (r) => pick(r.circuit.tcpToServer), align: 'right' },
    { title: `${title} to client`, key: `${key}_to_client`, value: (r) => pick(r.circuit.tcpToClient), align: 'right' },
  ];
}

const rttColumns = (title: string, key: string, side: (r: TcpCircuitRow) => TcpSideSummary): Column<TcpCircuitRow>[] =>
  (['min', 'p50', 'p90', 'max'] as const).map((p) => ({ title: `${title} ${p}`, key: `${key}_${p}`, value: (r: TcpCircuitRow) => round(side(r).rtt?.[p], 3), align: 'right' as const }));

/** The flat columns (CSV; JSON adds rtt_ms, client_rtt_ms and stalls as objects). */
const COLUMNS: Column<TcpCircuitRow>[] = [
  { title: 'circuit', value: (r) => r.circuit.id, align: 'right' },
  { title: 'client', value: (r) => r.circuit.client },
  { title: 'server', value: (r) => r.circuit.server },
  { title: 'start', value: (r) => formatTime(r.circuit.startAt.sec, r.circuit.startAt.nsec) },
  { title: 'start frame', key: 'start_frame', value: (r) => r.circuit.startFrame, align: 'right' },
  { title: 'end frame', key: 'end_frame', value: (r) => r.circuit.endFrame, align: 'right' },
  { title: 'handshake ms', key: 'handshake_ms', value: (r) => ms(r.circuit.handshakeRtt), align: 'right' },
  { title: 'RTT samples', key: 'rtt_samples', value: (r) => r.client.rtt?.samples ?? 0, align: 'right' },
  { title: 'client RTT samples', key: 'client_rtt_samples', value: (r) => r.server.rtt?.samples ?? 0, align: 'right' },
  { title: 'segments to server', key: 'packets_to_server', value: (r) => r.client.packets, align: 'right' },
  { title: 'segments to client', key: 'packets_to_client', value: (r) => r.server.packets, align: 'right' },
  { title: 'payload bytes to server', key: 'payload_bytes_to_server', value: (r) => r.client.payloadBytes, align: 'right' },
  { title: 'payload bytes to client', key: 'payload_bytes_to_client', value: (r) => r.server.payloadBytes, align: 'right' },
  { title: 'retransmissions', value: (r) => r.circuit.retransmissions, align: 'right' },
  ...perDirection('retransmissions', 'retransmissions', (d) => d.retransmissions),
  ...perDirection('holes filled late', 'holes_filled_late', (d) => d.holesFilledLate),
  ...perDirection('holes', 'holes', (d) => d.holes),
  ...perDirection('capture gaps', 'capture_gaps', (d) => d.gaps),
  ...perDirection('duplicate ACKs', 'duplicate_acks', (d) => d.duplicateAcks),
  ...perDirection('out of order', 'out_of_order', (d) => d.outOfOrder),
  ...perDirection('zero windows', 'zero_windows', (d) => d.zeroWindows),
  ...perDirection('window full', 'window_full', (d) => d.windowFull),
  ...perDirection('zero-window probes', 'zero_window_probes', (d) => d.zeroWindowProbes),
  { title: 'client window scale', key: 'client_window_scale', value: (r) => r.client.windowScale },
  { title: 'server window scale', key: 'server_window_scale', value: (r) => r.server.windowScale },
  { title: 'client min window', key: 'client_min_window', value: (r) => r.client.minWindow, align: 'right' },
  { title: 'server min window', key: 'server_min_window', value: (r) => r.server.minWindow, align: 'right' },
  { title: 'zero-window stalls', key: 'zero_window_stalls', value: (r) => r.circuit.stallCount, align: 'right' },
  { title: 'ended', value: (r) => r.circuit.endedBy ?? 'open' },
];

/** CSV: the round trips as columns, the stalls as one list. */
const CSV_COLUMNS: Column<TcpCircuitRow>[] = [
  ...COLUMNS,
  ...rttColumns('RTT ms', 'rtt_ms', (r) => r.client),
  ...rttColumns('client RTT ms', 'client_rtt_ms', (r) => r.server),
  { title: 'stalls', value: (r) => r.stalls.map(stallLine) },
];

/** The facts paired up to fit a terminal. */
const TABLE_COLUMNS: Column<TcpCircuitRow>[] = [
  { title: '#', value: (r) => r.circuit.id, align: 'right' },
  { title: 'client -> server', value: (r) => `${r.circuit.client} -> ${r.circuit.server}` },
  { title: 'handshake ms', value: (r) => ms(r.circuit.handshakeRtt), align: 'right' },
  { title: 'RTT ms to server\nmin/p50/p90/max', value: (r) => rttText(r.client.rtt) },
  { title: 'RTT ms to client\nmin/p50/p90/max', value: (r) => rttText(r.server.rtt) },
  { title: 'segments up/down', value: (r) => both(r.client.packets, r.server.packets), align: 'right' },
  { title: 'bytes up/down', value: (r) => both(r.client.payloadBytes, r.server.payloadBytes), align: 'right' },
  { title: 'retx up/down', value: (r) => both(r.circuit.tcpToServer.retransmissions, r.circuit.tcpToClient.retransmissions), align: 'right' },
  { title: 'late fills', value: (r) => r.circuit.tcpToServer.holesFilledLate + r.circuit.tcpToClient.holesFilledLate, align: 'right' },
  { title: 'gaps up/down', value: (r) => both(r.circuit.tcpToServer.gaps, r.circuit.tcpToClient.gaps), align: 'right' },
  { title: 'dup ACKs up/down', value: (r) => both(r.circuit.tcpToServer.duplicateAcks, r.circuit.tcpToClient.duplicateAcks), align: 'right' },
  { title: 'out of order up/down', value: (r) => both(r.circuit.tcpToServer.outOfOrder, r.circuit.tcpToClient.outOfOrder), align: 'right' },
  { title: 'client min window', value: (r) => windowText(r.client) },
  { title: 'server min window', value: (r) => windowText(r.server) },
  { title: 'stalls', value: (r) => (r.stalls.length ? r.stalls.map(stallLine) : r.circuit.stallCount), overflow: 'wrap' },
];

const rttJson = (r: RttStats | undefined) => (r ? { min: round(r.min, 3), p50: round(r.p50, 3), p90: round(r.p90, 3), max: round(r.max, 3), samples: r.samples } : null);

function stallJson(s: TcpStall): Record<string, unknown> {
  return {
    side: s.side,
    start_frame: s.startFrame,
    end_frame: s.endFrame ?? null,
    start: formatTime(s.startSec, s.startNsec),
    end: s.endSec === undefined ? null : formatTime(s.endSec, s.endNsec!),
    duration_s: round(s.seconds, 6),
    probes: s.probes,
    zero_window_advertisements: s.advertisements,
    waiting_bytes: s.waitingBytes ?? null,
    held_pvs: s.heldPvs,
  };
}

/** JSON Lines: the flat columns, then rtt_ms (capture point to server and back), client_rtt_ms and the stalls as objects. */
function jsonRows(rows: readonly (TcpCircuitRow & { file?: string })[]): string {
  return rows
    .map((r) => {
      const o = jsonRowStart();
      if (r.file !== undefined) o.file = r.file;
      for (const c of COLUMNS) o[c.key ?? c.title] = jsonSafe(c.value(r) ?? null);
      o.rtt_ms = rttJson(r.client.rtt);
      o.client_rtt_ms = rttJson(r.server.rtt);
      o.stalls = r.stalls.map(stallJson);
      return JSON.stringify(o);
    })
    .join('\n');
}

/** The rows of the report, as format asks. */
function circuitReport(format: ReportFormat, input: ReportInput<TcpPart>, pick: (rows: TcpCircuitRow[]) => TcpCircuitRow[], none: string): string {
  if (format === 'json') return jsonRows(input.several ? filedRows(input, (p) => pick(p.rows)) : pick(input.part.rows));
  return rowsReport(format, format === 'csv' ? CSV_COLUMNS : TABLE_COLUMNS, input, (p) => pick(p.rows), undefined, none);
}

// ---- --trace -------------------------------------------------------------------

const FLAG_NAMES: [number, string][] = [
  [0x02, 'SYN'],
  [0x01, 'FIN'],
  [0x04, 'RST'],
  [0x08, 'PSH'],
  [0x10, 'ACK'],
];

const ANALYSIS_NAMES: [number, string][] = [
  [TcpFlag.LOST_SEGMENT, 'gap'],
  [TcpFlag.FAST_RETRANSMISSION, 'fast retransmission'],
  [TcpFlag.SPURIOUS_RETRANSMISSION, 'spurious retransmission'],
  [TcpFlag.RETRANSMISSION, 'retransmission'],
  [TcpFlag.FILLED_HOLE, 'filled hole'],
  [TcpFlag.OUT_OF_ORDER, 'out-of-order'],
  [TcpFlag.DUPLICATE_ACK, 'duplicate ACK'],
  [TcpFlag.ZERO_WINDOW, 'zero window'],
  [TcpFlag.ZERO_WINDOW_PROBE, 'zero window probe'],
  [TcpFlag.ZERO_WINDOW_PROBE_ACK, 'zero window probe ACK'],
  [TcpFlag.WINDOW_FULL, 'window full'],
  [TcpFlag.WINDOW_UPDATE, 'window update'],
  [TcpFlag.KEEP_ALIVE, 'keep-alive'],
  [TcpFlag.KEEP_ALIVE_ACK, 'keep-alive ACK'],
];

const flagText = (flags: number): string => FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n).join(',');

/** The analysis flags' names (a fast or spurious retransmission is named once, not also as a retransmission). */
function analysisNames(a: number): string[] {
  const names = ANALYSIS_NAMES.filter(([bit]) => a & bit).map(([, n]) => n);
  return a & (TcpFlag.FAST_RETRANSMISSION | TcpFlag.SPURIOUS_RETRANSMISSION) ? names.filter((n) => n !== 'retransmission') : names;
}

/** Messages in order, a run of the same one counted: 'ReadNotifyResponse TP:ai, 3 x EventAddResponse TP:cnt'. */
export function messageRuns(messages: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < messages.length; ) {
    let j = i + 1;
    while (j < messages.length && messages[j] === messages[i]) j++;
    const text = safeText(messages[i]!);
    out.push(j - i > 1 ? `${j - i} x ${text}` : text);
    i = j;
  }
  return out.join(', ');
}

const TRACE_COLUMNS: Column<TraceRow>[] = [
  { title: 'frame', value: (r) => r.frame, align: 'right' },
  { title: 'time s', key: 'time_s', value: (r) => round(r.relative, 6), table: (r) => r.relative.toFixed(6), align: 'right' },
  { title: 'dir', value: (r) => (r.fromClient ? 'to_server' : 'to_client'), table: (r) => (r.fromClient ? 'C>S' : 'C<S') },
  { title: 'flags', value: (r) => flagText(r.flags) },
  { title: 'seq', value: (r) => r.seq, align: 'right' },
  { title: 'ack', value: (r) => r.ack, align: 'right' },
  { title: 'len', value: (r) => r.len, align: 'right' },
  { title: 'window', value: (r) => r.window, table: (r) => `${r.window}${r.windowScaled ? '' : '?'}`, align: 'right' },
  { title: 'window scaled', key: 'window_scaled', value: (r) => r.windowScaled, hideInTable: true },
  { title: 'in flight', key: 'in_flight', value: (r) => r.inFlight, align: 'right' },
  { title: 'analysis', value: (r) => analysisNames(r.analysis), overflow: 'wrap' },
  { title: 'CA messages', key: 'messages', value: (r) => r.messages, table: (r) => messageRuns(r.messages), overflow: 'wrap' },
];

function traceText(format: ReportFormat, part: TcpPart, circuit: number): string {
  const t = part.trace!;
  if (t.rows.length === 0) return format === 'table' ? `no circuit ${circuit} found` : formatReport(format, TRACE_COLUMNS, []);
  if (format !== 'table') return formatReport(format, TRACE_COLUMNS, t.rows);
  const unscaled = t.rows.some((r) => !r.windowScaled) ? '; window?: the window scale is unknown (handshake not captured), the field unscaled' : '';
  const head = `circuit ${circuit}: ${t.client} -> ${t.server}; times from the ${t.rows[0]!.flags & 0x02 ? 'SYN' : 'first packet (SYN not captured)'}, frame ${t.rows[0]!.frame}; seq/ack relative${unscaled}`;
  return `${head}\n${formatTable(TRACE_COLUMNS, t.rows, tableLayout())}`;
}

/** The traced circuit's windows and acknowledged bytes over time, stalls shaded, retransmissions and zero windows marked. */
async function tracePlot(file: string, part: TcpPart, circuit: number): Promise<void> {
  const rows = part.trace!.rows;
  const row = part.rows.find((r) => r.circuit.id === circuit);
  const origin = rows.length ? rows[0]!.time - rows[0]!.relative : 0;
  const window = (fromClient: boolean) => rows.filter((r) => r.fromClient === fromClient && !(r.flags & 0x04)).map((r) => [r.relative, r.window] as const);
  const acked = (fromClient: boolean) => rows.filter((r) => r.fromClient === fromClient && r.ack !== undefined).map((r) => [r.relative, r.ack!] as const);
  const times = (bit: number) => rows.filter((r) => r.analysis & bit).map((r) => r.relative);
  const svg = timeSeriesSvg(
    [
      { name: 'client receive window (B)', points: window(true) },
      { name: 'server receive window (B)', points: window(false) },
      { name: 'bytes the client acknowledged', points: acked(true) },
      { name: 'bytes the server acknowledged', points: acked(false) },
    ],
    {
      title: `Circuit ${circuit}: ${part.trace!.client ?? ''} -> ${part.trace!.server ?? ''}`,
      xTitle: 'seconds from the circuit start',
      yTitle: 'bytes',
      spans: (row?.stalls ?? []).map((s) => ({ from: s.startTime - origin, to: (s.endTime ?? s.startTime + s.seconds) - origin, label: stallLine(s) })),
      marks: [
        { name: 'retransmission', times: times(TcpFlag.RETRANSMISSION) },
        { name: 'zero window', times: times(TcpFlag.ZERO_WINDOW) },
      ],
    },
  );
  await writeSvgPlot(file, svg);
}

/** What the filters mean for tcp. */
const TCP_FILTERS = `as for circuits: --pv: circuits that carried a matching PV; --host, --port: circuits with that end;
--since, --until, --duration: circuits that carried a message in that capture time.`;

export function registerTcp(program: Command): void {
  reportCommand(program, 'tcp', DESCRIPTIONS.tcp, TCP_FILTERS)
    .addOption(new Option('--trace <circuit>', 'one circuit (its number in this report and in circuits) packet by packet').argParser(positiveInteger))
    .option('--plot <file>', 'with --trace: its receive windows and acknowledged bytes over time, to FILE.svg or FILE.png')
    .addOption(new Option('--slow-handshake <duration>', 'only circuits whose SYN-ACK came later than this after the SYN (300ms; bare number = s)').argParser(durationOption({ positive: true })).conflicts(['trace', 'endedByRst']))
    .addOption(new Option('--ended-by-rst', 'only circuits cut by a reset, with the other circuits of the client host open at that moment').conflicts('trace'))
    .action(async (files: string[], o: TcpCliOptions) => {
      await runReport(program, async (stop) => {
        if (o.plot !== undefined && o.trace === undefined) throw new UsageError('--plot draws one circuit: give --trace CIRCUIT too');
        if (o.plot !== undefined && !plotFormat(o.plot)) throw new UsageError(`--plot writes .svg or .png files, not '${o.plot}'`);
        if (o.trace !== undefined && files.length > 1 && !o.join) throw new UsageError('--trace names a circuit of one capture: read one file, or several with --join');
        const format = formatOf(o);
        const { input, text } = await readAndRender('tcp', { trace: o.trace }, files, o, stop, (input) => {
          if (o.trace !== undefined && !input.several) return traceText(format, input.part, o.trace);
          if (o.endedByRst) return rowsReport(format, RESET_COLUMNS, input, (p) => resetCircuits(p.rows.map((r) => r.circuit)), undefined, 'no circuits cut by a reset found');
          if (o.slowHandshake !== undefined) {
            const bound = o.slowHandshake;
            const slow = (rows: TcpCircuitRow[]) => rows.filter((r) => r.circuit.handshakeRtt !== undefined && r.circuit.handshakeRtt > bound);
            return circuitReport(format, input, slow, `no circuits with a handshake slower than ${ms(bound)} ms found`);
          }
          return circuitReport(format, input, (rows) => rows, 'no circuits found');
        });
        if (o.trace !== undefined && o.plot !== undefined && !input.several) {
          await tracePlot(o.plot, input.part, o.trace);
          if (!o.quiet) process.stderr.write(`cawire: wrote ${o.plot}\n`);
        }
        await writeReport(text, input, o);
      });
    });
}


