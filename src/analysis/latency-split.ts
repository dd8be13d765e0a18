// `latency --split`: each request/response time on a TCP circuit split into the
// network round trip between the capture point and the server, and the rest (the
// server's own time).
//
// The round trip is estimated per circuit from what the client sends toward the
// server and the server's ACKs of it (tcp-rtt.ts: one segment timed at a time,
// Karn's rule, the SYN -> SYN-ACK of the handshake included). An ACK that rides
// on the server's answer, or a delayed ACK, includes server time, so the estimate
// is the lowest of the latest RECENT_SAMPLES samples at the moment the response
// is seen: network_ms = min(that, latency), server_ms = latency - network_ms.
// A pair during which the circuit carried a retransmission (either way, from the
// request's frame to the response's) says so (retransmitted) and puts its whole
// time on the network: the wait for the lost segment is not the server's.

import type { TcpCircuit } from '../dissect/circuits.js';
import type { SegmentView } from '../dissect/options.js';
import { TcpFlag } from '../net/tcp-analysis.js';
import type { PairKind, PairRecord } from './pairing.js';
import { RttSampler } from './tcp-rtt.js';

/** The kinds split: request/response pairs on a TCP circuit. */
const SPLIT_KINDS: ReadonlySet<PairKind> = new Set<PairKind>(['create', 'read', 'write', 'subscribe', 'echo']);

const SYN_FIN = 0x03;
const ACK = 0x10;

interface CircuitRtt {
  /** the client's segments, timed by the server's ACKs: the capture point to the server and back */
  readonly toServer: RttSampler;
  /** frame of the circuit's latest retransmission (0: none yet) */
  lastRetransmission: number;
  /** pairs waiting for their response's segment (its flags come after the message's event) */
  pending: PairRecord[];
}

/** Network and server time of one pair, and whether a retransmission was in it. */
export interface SplitTimes {
  networkMs?: number;
  serverMs?: number;
  retransmitted?: boolean;
}

export class LatencySplit {
  private readonly circuits = new Map<number, CircuitRtt>();
  /** seconds are counted from this whole second (the first segment's), so samples are exact to the nanosecond */
  private originSec = -1;

  /** `deliver` gets each pair once its split is known (a pair not split at once). */
  constructor(private readonly deliver: (r: PairRecord & SplitTimes) => void) {}

  private stateOf(id: number): CircuitRtt {
    let st = this.circuits.get(id);
    if (!st) this.circuits.set(id, (st = { toServer: new RttSampler(false), lastRetransmission: 0, pending: [] }));
    return st;
  }

  /** Every segment of every circuit (DissectOptions.segments). */
  segment(v: SegmentView): void {
    const st = this.stateOf(v.circuit.id);
    if (this.originSec < 0) this.originSec = v.sec;
    const t = v.sec - this.originSec + v.nsec * 1e-9;
    const resent = (v.analysis & TcpFlag.RETRANSMISSION) !== 0;
    if (resent) st.lastRetransmission = v.frame;
    if (v.fromClient) st.toServer.sent(v.seq, v.len + (v.flags & SYN_FIN ? 1 : 0), resent, t);
    else if (v.flags & ACK) st.toServer.acked(v.ack, t);
    if (st.pending.length) this.settle(st, v.frame);
  }

  /** A pair from the pairer: split when it is a TCP request/response, delivered once its response's segment is seen. */
  record(r: PairRecord): void {
    if (r.circuit === undefined || !SPLIT_KINDS.has(r.kind)) {
      this.deliver(r);
      return;
    }
    const st = this.stateOf(r.circuit);
    const rtt = st.toServer.lowestRecent();
    const split = r as PairRecord & SplitTimes;
    if (rtt !== undefined) {
      const network = Math.min(rtt, r.latency);
      split.networkMs = network * 1000;
      split.serverMs = (r.latency - network) * 1000;
    }
    st.pending.push(split);
  }

  /** The pairs whose response came by `frame`: whether a retransmission was among their frames. */
  private settle(st: CircuitRtt, frame: number): void {
    let kept = 0;
    for (const r of st.pending as (PairRecord & SplitTimes)[]) {
      if (r.responseFrame > frame) {
        st.pending[kept++] = r;
        continue;
      }
      this.finalise(st, r);
    }
    st.pending.length = kept;
  }

  private finalise(st: CircuitRtt, r: PairRecord & SplitTimes): void {
    r.retransmitted = st.lastRetransmission >= r.requestFrame;
    if (r.retransmitted) {
      r.networkMs = r.latency * 1000;
      r.serverMs = 0;
    }
    this.deliver(r);
  }

  /** The circuit left the dissector: its pairs are settled with what was seen. */
  circuitEnded(c: TcpCircuit): void {
    const st = this.circuits.get(c.id);
    if (!st) return;
    for (const r of st.pending) this.finalise(st, r);
    this.circuits.delete(c.id);
  }

  /** The end: every pair still waiting is settled. */
  finish(): void {
    for (const st of this.circuits.values()) {
      for (const r of st.pending) this.finalise(st, r);
      st.pending = [];
    }
  }
}
