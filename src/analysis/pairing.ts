// Pairing requests with their responses (ca-protocol-notes §11): every key is
// scoped to one TCP circuit, or for searches to the client's UDP socket, because
// libca starts its ids at the same small numbers in every process.
//
// Latencies are computed from the integer (sec, nsec) capture times, so a reply
// captured 2 ms after its request measures exactly 0.002 s. Requests are timed
// from their first transmission (search retries reuse the id and are ignored).
// An outstanding request older than `timeout` capture seconds is reported as
// unanswered and forgotten; a reply that comes later counts as an orphan.

import { ANY_ADDRESS, CMD } from '../../protocols/ca/constants.js';
import { ecaName } from '../../protocols/ca/eca.js';
import { ipToString } from '../../protocols/ca/ip.js';
import {
  CreateChanRequest,
  CreateChanResponse,
  CreateChFailResponse,
  EchoRequest,
  EchoResponse,
  ErrorResponse,
  EventAddRequest,
  EventAddResponse,
  EventCancelRequest,
  EventCancelResponse,
  NotFoundResponse,
  ReadNotifyRequest,
  ReadNotifyResponse,
  ReadSyncRequest,
  ReadSyncResponse,
  SearchRequest,
  SearchResponse,
  WriteNotifyRequest,
  WriteNotifyResponse,
} from '../../protocols/ca/messages.js';
import { endpointKey, type TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import type { DeclinedMessage, MessageSelection } from '../dissect/options.js';
import { ConnectTracker, type ClientProcess, type ConnectCircuit, type ConnectStage } from './connects.js';
import { IdSet } from './id-set.js';
import { PerCircuit } from './per-circuit.js';

export type PairKind = 'search' | 'handshake' | 'create' | 'read' | 'write' | 'subscribe' | 'echo' | 'connect';

export const PAIR_KINDS: readonly PairKind[] = ['search', 'handshake', 'create', 'read', 'write', 'subscribe', 'echo', 'connect'];

export interface PairRecord {
  kind: PairKind;
  pv?: string;
  /** ip:port */
  client: string;
  /** ip:port; for searches the address the reply advertises */
  server: string;
  /** TcpCircuit id (absent for UDP searches) */
  circuit?: number;
  /** capture times, Unix seconds */
  requestTime: number;
  responseTime: number;
  /** the request's capture time exact (Unix seconds and nanoseconds), for printing */
  requestSec: number;
  requestNsec: number;
  /** seconds */
  latency: number;
  requestFrame: number;
  responseFrame: number;
  /** 'ok', 'ECA_NORMAL', 'ECA_PUTFAIL', 'CreateChFail', 'NotFound' … */
  outcome: string;
}

/** For connects, how far the connect got instead (src/analysis/connects.ts). */
export type UnansweredReason = 'timeout' | 'circuit-closed' | 'end-of-capture' | ConnectStage;

export interface Unanswered {
  kind: PairKind;
  pv?: string;
  client: string;
  server?: string;
  requestTime: number;
  /** the same, exact (Unix seconds and nanoseconds), for printing */
  requestSec: number;
  requestNsec: number;
  requestFrame: number;
  reason: UnansweredReason;
}

export interface SearchConflict {
  pv: string;
  client: string;
  /** every server that answered, the first one first */
  servers: string[];
  /** frame of the first reply from a second server */
  frame: number;
}

export interface PairerOptions {
  /** capture seconds a request may stay outstanding; default 60 */
  timeout?: number;
  /** kinds to pair; default all */
  kinds?: ReadonlySet<PairKind>;
}

export interface PairCounts {
  pairs: Record<PairKind, number>;
  unanswered: Record<PairKind, number>;
  /** replies whose request is not in the capture (or came after the timeout) */
  orphanResponses: Record<PairKind, number>;
  searchConflicts: number;
}

export const DEFAULT_TIMEOUT_SEC = 60;
/** Conflicts kept in `conflicts` (all are counted). */
const MAX_CONFLICTS_KEPT = 10_000;

/** When and where a request was seen. */
/** A request waiting for its reply, with its exact capture time. */
export interface Pending {
  /** float seconds, for expiry and the records */
  time: number;
  /** the same, exact (elapsed times, printing) */
  sec: number;
  nsec: number;
  frame: number;
  pv: string | undefined;
}

interface PendingSearch extends Pending {
  client: string;
}

/** A search already answered: kept for `timeout` to notice a second server answering. */
interface AnsweredSearch {
  time: number;
  pv: string | undefined;
  client: string;
  server: string;
  conflict?: SearchConflict;
}

type CircuitKind = 'create' | 'read' | 'write' | 'subscribe';

/** What is outstanding on one circuit. */
class CircuitPairs implements ConnectCircuit {
  handshakeDone = false;
  /** the client process whose connects it makes (decided at its first CreateChan) */
  owner: ClientProcess | null | undefined = undefined;
  /** ip:port strings, made once for all the circuit's records */
  readonly client: string;
  readonly server: string;
  readonly pending: Record<CircuitKind, Map<number, Pending>> = {
    create: new Map(),
    read: new Map(),
    write: new Map(),
    subscribe: new Map(),
  };
  /** subscription ids whose first update was seen: later updates are not replies */
  readonly subscribed = new IdSet();
  readonly echoes: Pending[] = [];

  constructor(readonly circuit: TcpCircuit) {
    this.client = circuit.client;
    this.server = circuit.server;
  }
}

const CIRCUIT_KINDS: readonly CircuitKind[] = ['create', 'read', 'write', 'subscribe'];

/** The request kind an ERROR reports on, by the command of its embedded header. */
const ERROR_KINDS: Readonly<Record<number, CircuitKind>> = {
  [CMD.READ_NOTIFY]: 'read',
  [CMD.WRITE_NOTIFY]: 'write',
  [CMD.EVENT_ADD]: 'subscribe',
  [CMD.CREATE_CHAN]: 'create',
};

function perKind(): Record<PairKind, number> {
  return { search: 0, handshake: 0, create: 0, read: 0, write: 0, subscribe: 0, echo: 0, connect: 0 };
}

function pendingOf(ev: CaEvent, pv: string | undefined): Pending {
  return { sec: ev.tsSec, nsec: ev.tsNsec, time: ev.timestamp, frame: ev.frame, pv };
}

/** Seconds between two capture times, from whole nanoseconds (exact for any capture precision). */
function elapsed(from: Pending, ev: CaEvent): number {
  return ((ev.tsSec - from.sec) * 1e9 + (ev.tsNsec - from.nsec)) / 1e9;
}

export class Pairer {
  readonly counts: PairCounts = { pairs: perKind(), unanswered: perKind(), orphanResponses: perKind(), searchConflicts: 0 };
  readonly conflicts: SearchConflict[] = [];

  private readonly timeout: number;
  private readonly kinds: ReadonlySet<PairKind>;
  /** kinds.has('subscribe'), asked for every monitor update */
  private readonly subscribe: boolean;
  private readonly circuits = new PerCircuit<CircuitPairs>();
  /** by `${client endpoint key}/${search id}` */
  private readonly searches = new Map<string, PendingSearch>();
  private readonly answeredSearches = new Map<string, AnsweredSearch>();
  /** time to connect, per client process */
  private readonly connects = new ConnectTracker({
    pair: (p, ev, client, server, circuit) => {
      if (elapsed(p, ev) <= this.timeout) return this.pair('connect', p, ev, client, server, circuit, 'ok');
      // Not connected within the timeout, as if swept out before this reply: the reply is an orphan.
      this.unanswered('connect', p, client, server, 'no-create-response');
      this.counts.orphanResponses.connect++;
    },
    unanswered: (p, client, server, reason) => this.unanswered('connect', p, client, server, reason),
    orphan: () => this.counts.orphanResponses.connect++,
  });
  /** latest capture time seen */
  private now = 0;
  private nextSweep = 0;

  constructor(
    opts: PairerOptions,
    private readonly onPair: (r: PairRecord) => void,
    private readonly onUnanswered: (u: Unanswered) => void = () => {},
  ) {
    this.timeout = opts.timeout ?? DEFAULT_TIMEOUT_SEC;
    if (!(this.timeout > 0)) throw new RangeError(`pairing timeout must be positive, not ${this.timeout}`);
    this.kinds = opts.kinds ?? new Set(PAIR_KINDS);
    this.subscribe = this.kinds.has('subscribe');
  }

  /**
   * Whether the pairer reads TCP messages of this command (for DissectOptions.wants):
   * monitor updates, say, only when subscriptions are paired. VERSION and ERROR
   * always are (a circuit's first message settles its handshake; an error may
   * answer any request).
   */
  wants(command: number, fromClient: boolean): boolean {
    const k = this.kinds;
    switch (command) {
      case CMD.CREATE_CHAN:
      case CMD.CREATE_CH_FAIL:
        return k.has('create') || k.has('connect');
      case CMD.READ_NOTIFY:
        return k.has('read');
      case CMD.WRITE_NOTIFY:
        return k.has('write');
      case CMD.EVENT_ADD:
        // The server's EVENT_ADD messages (monitor updates) are offered to declined(): it takes the few it pairs.
        return fromClient && k.has('subscribe');
      case CMD.EVENT_CANCEL:
        return k.has('subscribe');
      case CMD.ECHO:
      case CMD.READ_SYNC:
        return k.has('echo');
      case CMD.VERSION:
      case CMD.ERROR:
      case CMD.SEARCH:
      case CMD.NOT_FOUND:
        return true;
      default:
        return false;
    }
  }

  /**
   * A TCP message wants() declined (DissectOptions.declined). True for the
   * server's EVENT_ADD messages it must see whole: the first update of a
   * subscription (the reply to its EVENT_ADD) and the empty one confirming a
   * cancel. Any other only moves the pairer's clock, as an event would.
   */
  declined(m: DeclinedMessage): boolean {
    if (m.command === CMD.EVENT_ADD && !m.fromClient && this.subscribe) {
      if (m.payloadSize === 0) return true;
      const state = this.circuits.get(m.circuit);
      if (state === undefined || !state.subscribed.has(m.parameter2)) return true;
    }
    // tick(m.time) written out: a float passed to a call that is not inlined is boxed, an allocation per update.
    if (m.time > this.now) this.now = m.time;
    if (this.now >= this.nextSweep) this.sweep();
    return false;
  }

  /** What the pairer reads, as dissection options: wants() and declined() go together. */
  selection(): MessageSelection {
    return { wants: (command, fromClient) => this.wants(command, fromClient), declined: (m) => this.declined(m), copyMessages: true };
  }

  event(ev: CaEvent): void {
    this.tick(ev.timestamp);
    const m = ev.command;
    if (m instanceof SearchRequest) this.searchRequest(ev, m);
    else if (m instanceof SearchResponse || m instanceof NotFoundResponse) this.searchResponse(ev, m);
    else if (ev.circuit) this.circuitMessage(ev, this.circuitPairs(ev.circuit));
    else if (this.kinds.has('connect')) this.connects.datagram(ev, endpointKey(ev.srcIp, ev.sport));
  }

  /** The dissector retired a circuit: its handshake is settled and what is still pending is unanswered. */
  circuitEnded(c: TcpCircuit): void {
    if (c.protocol !== 'ca') return; // the engine tracks other protocols' circuits too (a pvAccess one): not CA's
    const state = this.circuits.get(c);
    this.circuits.delete(c);
    if (!state?.handshakeDone) this.handshake(c, true);
    if (!state) return;
    this.connects.circuitEnded(state);
    for (const kind of CIRCUIT_KINDS) {
      for (const p of state.pending[kind].values()) this.unanswered(kind, p, state.client, state.server, this.reasonAtEnd(c, p.time));
    }
    for (const p of state.echoes) this.unanswered('echo', p, state.client, state.server, this.reasonAtEnd(c, p.time));
  }

  /** Why a request still outstanding when its circuit left the dissector's table got no reply. */
  private reasonAtEnd(c: TcpCircuit, requestTime: number): UnansweredReason {
    const end = c.endTime ?? this.now;
    if (end - requestTime > this.timeout) return 'timeout';
    return c.endedBy ? 'circuit-closed' : 'end-of-capture';
  }

  /** End of the capture: searches and connects still outstanding are unanswered. */
  finish(): void {
    this.sweep();
    for (const p of this.searches.values()) this.unanswered('search', p, p.client, undefined, 'end-of-capture');
    this.searches.clear();
    this.answeredSearches.clear();
    this.connects.finish();
  }

  // ---- searches and time to connect --------------------------------------

  private searchRequest(ev: CaEvent, m: SearchRequest): void {
    const name = m.name;
    if (this.kinds.has('search')) {
      const key = `${endpointKey(ev.srcIp, ev.sport)}/${m.cid}`;
      if (!this.searches.has(key)) {
        this.answeredSearches.delete(key); // the id is searched again
        this.searches.set(key, { ...pendingOf(ev, name), client: `${ev.src}:${ev.sport}` });
      }
    }
    if (this.kinds.has('connect')) this.connects.search(ev, endpointKey(ev.srcIp, ev.sport), name, m.cid);
  }

  private searchResponse(ev: CaEvent, m: SearchResponse | NotFoundResponse): void {
    if (!this.kinds.has('search') && !this.kinds.has('connect')) return;
    let server: string;
    if (m instanceof SearchResponse) {
      const ip = m.parameter1 === ANY_ADDRESS ? ev.srcIp : m.parameter1;
      server = `${ipToString(ip)}:${m.port}`;
    } else server = `${ev.src}:${ev.sport}`;
    if (this.kinds.has('connect') && m instanceof SearchResponse) this.connects.reply(ev, endpointKey(ev.dstIp, ev.dport), m.cid, server);
    if (!this.kinds.has('search')) return;
    const key = `${endpointKey(ev.dstIp, ev.dport)}/${m.cid}`;
    const p = this.searches.get(key);
    if (p) {
      this.searches.delete(key);
      if (!this.answeredInTime('search', p, ev, p.client, server)) return;
      this.pair('search', p, ev, p.client, server, undefined, m instanceof SearchResponse ? 'ok' : 'NotFound');
      this.answeredSearches.set(key, { time: ev.timestamp, pv: p.pv, client: p.client, server });
      return;
    }
    const answered = this.answeredSearches.get(key);
    if (!answered) {
      this.counts.orphanResponses.search++;
      return;
    }
    if (server === answered.server || answered.conflict?.servers.includes(server)) return; // a repeated reply
    if (answered.conflict) {
      answered.conflict.servers.push(server);
      return;
    }
    answered.conflict = { pv: answered.pv ?? '', client: answered.client, servers: [answered.server, server], frame: ev.frame };
    this.counts.searchConflicts++;
    if (this.conflicts.length < MAX_CONFLICTS_KEPT) this.conflicts.push(answered.conflict);
  }

  // ---- circuits ------------------------------------------------------------

  private circuitPairs(c: TcpCircuit): CircuitPairs {
    let state = this.circuits.get(c);
    if (!state) {
      state = new CircuitPairs(c);
      this.circuits.set(c, state);
      state.handshakeDone = this.handshake(c, false);
    }
    return state;
  }

  /**
   * Pairs SYN -> SYN-ACK from the circuit's record. Returns false while the SYN-ACK
   * may still come; `final` (the circuit ended) settles it either way.
   */
  private handshake(c: TcpCircuit, final: boolean): boolean {
    if (!this.kinds.has('handshake')) return true;
    const { synTime, synAckTime } = c;
    if (synTime === undefined) {
      if (synAckTime !== undefined) this.counts.orphanResponses.handshake++;
      return true;
    }
    if (synAckTime === undefined) {
      if (!final) return false;
      const syn: Pending = { time: synTime, sec: c.synSec, nsec: c.synNsec, frame: c.synFrame!, pv: undefined };
      this.unanswered('handshake', syn, c.client, c.server, this.reasonAtEnd(c, synTime));
      return true;
    }
    // From the exact times, in whole nanoseconds (as elapsed() does).
    const latency = ((c.synAckSec - c.synSec) * 1e9 + (c.synAckNsec - c.synNsec)) / 1e9;
    this.counts.pairs.handshake++;
    this.onPair({
      kind: 'handshake',
      client: c.client,
      server: c.server,
      circuit: c.id,
      requestTime: synTime,
      responseTime: synAckTime,
      requestSec: c.synSec,
      requestNsec: c.synNsec,
      latency,
      requestFrame: c.synFrame!,
      responseFrame: c.synAckFrame!,
      outcome: 'ok',
    });
    return true;
  }

  private circuitMessage(ev: CaEvent, state: CircuitPairs): void {
    const m = ev.command;
    // Monitor updates are most of the traffic: tested first.
    if (m instanceof EventAddResponse) {
      if (!this.kinds.has('subscribe') || state.subscribed.has(m.subscriptionid)) return; // a later update
      state.subscribed.add(m.subscriptionid);
      this.response(state, 'subscribe', m.subscriptionid, ev, ecaName(m.status));
    } else if (m instanceof CreateChanRequest) {
      this.request(state, 'create', m.cid, ev);
      if (this.kinds.has('connect')) this.connects.createRequest(state, m.name, m.cid);
    } else if (m instanceof CreateChanResponse) {
      this.response(state, 'create', m.cid, ev, 'ok');
      if (this.kinds.has('connect')) this.connects.created(ev, state, ev.pv, m.cid);
    } else if (m instanceof CreateChFailResponse) {
      this.response(state, 'create', m.cid, ev, 'CreateChFail');
      if (this.kinds.has('connect')) this.connects.createFailed(state, ev.pv, m.cid);
    }
    else if (m instanceof ReadNotifyRequest) this.request(state, 'read', m.ioid, ev);
    else if (m instanceof ReadNotifyResponse) this.response(state, 'read', m.ioid, ev, ecaName(m.status));
    else if (m instanceof WriteNotifyRequest) this.request(state, 'write', m.ioid, ev);
    else if (m instanceof WriteNotifyResponse) this.response(state, 'write', m.ioid, ev, ecaName(m.status));
    else if (m instanceof EventAddRequest) {
      state.subscribed.delete(m.subscriptionid);
      this.request(state, 'subscribe', m.subscriptionid, ev);
    } else if (m instanceof EventCancelRequest || m instanceof EventCancelResponse) state.subscribed.delete(m.subscriptionid);
    else if (m instanceof ErrorResponse) {
      const req = m.request;
      const kind = req && ERROR_KINDS[req.command];
      if (kind) this.response(state, kind, kind === 'create' ? req.parameter1 : req.parameter2, ev, ecaName(m.status));
    } else if (m instanceof EchoRequest || m instanceof ReadSyncRequest) {
      // READ_SYNC is the echo of clients before CA 4.3.
      if (this.kinds.has('echo')) state.echoes.push(pendingOf(ev, undefined));
    } else if (m instanceof EchoResponse || m instanceof ReadSyncResponse) {
      if (!this.kinds.has('echo')) return;
      const p = state.echoes.shift();
      if (!p) this.counts.orphanResponses.echo++;
      else if (this.answeredInTime('echo', p, ev, state.client, state.server)) this.pair('echo', p, ev, state.client, state.server, state.circuit.id, 'ok');
    }
  }

  /** A request; a repeated id keeps the first request's time. */
  private request(state: CircuitPairs, kind: CircuitKind, id: number, ev: CaEvent): void {
    if (!this.kinds.has(kind)) return;
    const pending = state.pending[kind];
    if (!pending.has(id)) pending.set(id, pendingOf(ev, ev.pv));
  }

  private response(state: CircuitPairs, kind: CircuitKind, id: number, ev: CaEvent, outcome: string): void {
    if (!this.kinds.has(kind)) return;
    const pending = state.pending[kind];
    const p = pending.get(id);
    if (!p) {
      this.counts.orphanResponses[kind]++;
      return;
    }
    pending.delete(id);
    if (this.answeredInTime(kind, p, ev, state.client, state.server)) this.pair(kind, p, ev, state.client, state.server, state.circuit.id, outcome);
  }

  // ---- records, timeouts ---------------------------------------------------

  /** False (and the request counted unanswered, the reply an orphan) when the reply came after the timeout. */
  private answeredInTime(kind: PairKind, p: Pending, ev: CaEvent, client: string, server: string | undefined): boolean {
    if (elapsed(p, ev) <= this.timeout) return true;
    this.unanswered(kind, p, client, server, 'timeout');
    this.counts.orphanResponses[kind]++;
    return false;
  }

  private pair(kind: PairKind, p: Pending, ev: CaEvent, client: string, server: string, circuit: number | undefined, outcome: string): void {
    this.counts.pairs[kind]++;
    this.onPair({
      kind,
      pv: p.pv,
      client,
      server,
      circuit,
      requestTime: p.time,
      responseTime: ev.timestamp,
      requestSec: p.sec,
      requestNsec: p.nsec,
      latency: elapsed(p, ev),
      requestFrame: p.frame,
      responseFrame: ev.frame,
      outcome,
    });
  }

  private unanswered(kind: PairKind, p: Pending, client: string, server: string | undefined, reason: UnansweredReason): void {
    this.counts.unanswered[kind]++;
    this.onUnanswered({ kind, pv: p.pv, client, server, requestTime: p.time, requestSec: p.sec, requestNsec: p.nsec, requestFrame: p.frame, reason });
  }

  /** The latest capture time seen moves on; requests waiting past the timeout are swept out now and then. */
  private tick(t: number): void {
    if (t > this.now) this.now = t;
    if (this.now >= this.nextSweep) this.sweep();
  }

  /**
   * Drops requests outstanding longer than the timeout. Runs every quarter
   * timeout of capture time; maps are in request order, so each scan stops at
   * the first request still young.
   */
  private sweep(): void {
    const cutoff = this.now - this.timeout;
    this.nextSweep = this.now + this.timeout / 4;
    for (const state of this.circuits.values()) {
      for (const kind of CIRCUIT_KINDS) {
        expire(state.pending[kind], cutoff, (p) => this.unanswered(kind, p, state.client, state.server, 'timeout'));
      }
      while (state.echoes.length > 0 && state.echoes[0]!.time < cutoff) {
        this.unanswered('echo', state.echoes.shift()!, state.client, state.server, 'timeout');
      }
    }
    expire(this.searches, cutoff, (p) => this.unanswered('search', p, p.client, undefined, 'timeout'));
    for (const [key, answered] of this.answeredSearches) {
      if (answered.time >= cutoff) break;
      this.answeredSearches.delete(key);
    }
    this.connects.sweep(cutoff);
  }
}

/** Removes the leading entries of a request-ordered map older than `cutoff`. */
function expire<P extends Pending>(map: Map<unknown, P>, cutoff: number, dropped: (p: P) => void): void {
  for (const [key, p] of map) {
    if (p.time >= cutoff) break;
    map.delete(key);
    dropped(p);
  }
}
