// What a report is to the runner (runner.ts): what it wants from the dissector,
// what it does with each event and each ended circuit, and the partial result
// it gives at the end. A Part survives a structured clone, so a worker thread
// can send it back; the report merges the parts of several files.

import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import type { CaptureClock } from '../dissect/filter.js';
import type { DeclinedMessage, MessageSelection } from '../dissect/options.js';
import type { DissectResult } from '../dissect/run.js';

export interface Analysis<Part> {
  /**
   * The messages it reads, as dissection options (default: every message
   * whole). `declined` is the header-word path: it returns true for a message
   * it wants whole after all, and must say so before it tallies anything.
   */
  selection?(): MessageSelection;
  /** told, before the first packet, what bounds relative to the first packet are measured against */
  started?(clock: CaptureClock): void;
  /** told before each file's packets: its path ('-' stdin), and the frames of the files before it (--join) */
  fileStarted?(path: string, frameOffset: number): void;
  event(ev: CaEvent): void;
  /** the dissector retired a circuit (closed, evicted, or at the end) */
  circuitEnded?(c: TcpCircuit): void;
  /** the result of what was read (structured-clone-able) */
  finish(result: DissectResult): Part;
  /**
   * --every: the part of what was read so far, leaving the analysis as it was
   * (finish is still to come). Requests still waiting are not yet unanswered;
   * `open` are the circuits still in the dissector's table that the filters
   * keep (finish sees them through circuitEnded). Called synchronously, between
   * two messages: what it returns is rendered before the next one.
   */
  snapshot?(result: DissectResult, open: readonly TcpCircuit[]): Part;
}

/** One callback that calls each of `callbacks` given (undefined when none is). */
function every<T>(callbacks: readonly (((v: T) => void) | undefined)[]): ((v: T) => void) | undefined {
  const list = callbacks.filter((f): f is (v: T) => void => f !== undefined);
  if (list.length <= 1) return list[0];
  return (v) => {
    for (let i = 0; i < list.length; i++) list[i]!(v);
  };
}

/** Analyses run over one pass of the capture: each gets every event; finish gives each one's part, by name. */
export class CompositeAnalysis<Parts extends Record<string, unknown>> implements Analysis<Parts> {
  private readonly list: Analysis<unknown>[];
  private readonly declining: NonNullable<MessageSelection['declined']>[] = [];
  private readonly ending: Analysis<unknown>[];

  /**
   * `analyses` in the order they are told of each event. A declined message is
   * offered to each in turn and taken whole at the first that wants it so: one
   * that may want a message whole that another tallies must come before it.
   */
  constructor(private readonly analyses: { [K in keyof Parts]: Analysis<Parts[K]> }) {
    this.list = Object.values(analyses);
    this.ending = this.list.filter((a) => a.circuitEnded);
  }

  selection(): MessageSelection {
    const selections = this.list.map((a) => a.selection?.() ?? {});
    // Taken whole when any analysis takes it whole (a missing `wants` takes everything).
    const wants = selections.map((s) => s.wants ?? (() => true));
    for (const s of selections) if (s.declined) this.declining.push(s.declined);
    const declining = this.declining;
    return {
      wants: (command, fromClient) => wants.some((w) => w(command, fromClient)),
      declined:
        declining.length === 0
          ? undefined
          : (m: DeclinedMessage) => {
              for (let i = 0; i < declining.length; i++) if (declining[i]!(m)) return true;
              return false;
            },
      copyMessages: selections.some((s) => s.copyMessages),
      tcpAnalysis: selections.some((s) => s.tcpAnalysis),
      segments: every(selections.map((s) => s.segments)),
      otherDatagrams: every(selections.map((s) => s.otherDatagrams)),
    };
  }

  event(ev: CaEvent): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.event(ev);
  }

  circuitEnded(c: TcpCircuit): void {
    for (const a of this.ending) a.circuitEnded!(c);
  }

  finish(result: DissectResult): Parts {
    const parts = {} as Parts;
    for (const name of Object.keys(this.analyses) as (keyof Parts)[]) parts[name] = this.analyses[name].finish(result);
    return parts;
  }

  /** Each one's snapshot; undefined when one of them has none. */
  get snapshot(): ((result: DissectResult, open: readonly TcpCircuit[]) => Parts) | undefined {
    const names = Object.keys(this.analyses) as (keyof Parts)[];
    if (names.some((n) => !this.analyses[n].snapshot)) return undefined;
    return (result, open) => {
      const parts = {} as Parts;
      for (const name of names) parts[name] = this.analyses[name].snapshot!(result, open);
      return parts;
    };
  }
}
