// Time to connect: from a client process's first search for a name to the
// CreateChanResponse for that name on that process's own circuit.
//
// A process is one client UDP search socket (ip:port): libca opens one per
// process. It lives from its first datagram to its exit wake-up (at shutdown
// libca sends a datagram from the socket to itself, ca-protocol-notes §4.1
// VERSION), or to the end of the capture; a port used again after its wake-up
// is a new process. Nothing on the wire ties a TCP circuit to a socket, so a
// circuit is given to a process when it carries its first CreateChan message:
// among the processes of the circuit's client IP that the circuit's server
// (address:port) answered before the circuit opened (SYN, or first segment
// seen), and that had not ended then, the first by
//   1. a connect pending for the name that CreateChan carries, with its id
//      (libca uses the channel's cid as the search id), then for the name alone;
//   2. no circuit to that server yet (libca opens one per server);
//   3. the latest answer: the circuit follows its socket's reply most closely.
// A name that gets no CreateChanResponse on its process's circuit before the
// process ends, the timeout passes or the capture ends is an unanswered connect
// of that socket, from its first search frame, with how far it got: no-reply
// (no server answered the search), no-circuit (answered, but the process had
// no circuit to that server), no-create-response (it had one), create-failed
// (the server refused the channel with CreateChFail; a later success still counts).

import type { TcpCircuit } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import type { Pending } from './pairing.js';

export type ConnectStage = 'no-reply' | 'no-circuit' | 'no-create-response' | 'create-failed';

/** A connect waiting for its CreateChanResponse: the process's first search for the name. */
interface PendingConnect extends Pending {
  /** the search id of that first search */
  id: number;
  /** the first server (ip:port) whose reply advertised the name to the process */
  server: string | undefined;
  /** a CreateChFail for the name came on the process's circuit */
  refused: boolean;
}

/** One client process: a UDP search socket between its first datagram and its exit wake-up. */
export class ClientProcess {
  /** connects waiting, by name, in the order of their first search */
  readonly byName = new Map<string, PendingConnect>();
  /** the same connects by search id (retries and replies carry the id) */
  readonly byId = new Map<number, PendingConnect>();
  /** servers (ip:port) the process has had circuits to: its latest circuit to each, null once that left the dissector */
  readonly circuits = new Map<string, TcpCircuit | null>();
  /** capture time of its exit wake-up */
  endTime: number | undefined = undefined;
  lastSeen: number;

  constructor(
    /** ip:port of the socket */
    readonly client: string,
    now: number,
  ) {
    this.lastSeen = now;
  }

  forget(p: PendingConnect): void {
    this.byName.delete(p.pv!);
    if (this.byId.get(p.id) === p) this.byId.delete(p.id);
  }

  stage(p: PendingConnect): ConnectStage {
    if (p.refused) return 'create-failed';
    if (p.server === undefined) return 'no-reply';
    return this.circuits.has(p.server) ? 'no-create-response' : 'no-circuit';
  }
}

/** A server's reply to a process, kept to find the process of a circuit opened after it. */
interface Answer {
  process: ClientProcess;
  time: number;
}

/** What the pairer's circuit state holds for this: the circuit, its server, and its process once decided. */
export interface ConnectCircuit {
  readonly circuit: TcpCircuit;
  /** ip:port */
  readonly server: string;
  /** undefined until the circuit's first CreateChan; null when no process fits */
  owner: ClientProcess | null | undefined;
}

/** Where the connects go: the Pairer's records, with its timeout check. */
export interface ConnectSink {
  pair(p: Pending, ev: CaEvent, client: string, server: string, circuit: number): void;
  unanswered(p: Pending, client: string, server: string | undefined, reason: ConnectStage): void;
  orphan(): void;
}

/** Answers looked at to decide a circuit's process: a bound on the work per circuit. */
const MAX_ANSWERS_SCANNED = 1024;

export class ConnectTracker {
  /** live processes by socket (endpointKey) */
  private readonly processes = new Map<number, ClientProcess>();
  /** by `${client ip}/${server ip:port}`: the server's replies to that host's processes, in time order */
  private readonly answers = new Map<string, Answer[]>();

  constructor(private readonly sink: ConnectSink) {}

  /** A SearchRequest: the first one for a name in its process starts that connect's clock. */
  search(ev: CaEvent, key: number, name: string, id: number): void {
    let proc = this.processes.get(key);
    if (!proc) this.processes.set(key, (proc = new ClientProcess(`${ev.src}:${ev.sport}`, ev.timestamp)));
    proc.lastSeen = ev.timestamp;
    let p = proc.byName.get(name);
    if (!p) {
      p = { sec: ev.tsSec, nsec: ev.tsNsec, time: ev.timestamp, frame: ev.frame, pv: name, id, server: undefined, refused: false };
      proc.byName.set(name, p);
    }
    if (!proc.byId.has(id)) proc.byId.set(id, p);
  }

  /** A SearchResponse from `server` (the address it advertises) to the socket `key`. */
  reply(ev: CaEvent, key: number, id: number, server: string): void {
    const proc = this.processes.get(key);
    if (!proc) return;
    const t = ev.timestamp;
    proc.lastSeen = t;
    const p = proc.byId.get(id);
    if (p && p.server === undefined) p.server = server;
    const hostKey = `${ev.dstIp}/${server}`;
    let list = this.answers.get(hostKey);
    if (!list) this.answers.set(hostKey, (list = []));
    const last = list[list.length - 1];
    // One reply datagram answers several names: one answer.
    if (!last || last.process !== proc || last.time !== t) list.push({ process: proc, time: t });
  }

  /** Any other datagram: one from a socket to itself is its process's exit wake-up. */
  datagram(ev: CaEvent, key: number): void {
    if (ev.srcIp !== ev.dstIp || ev.sport !== ev.dport) return;
    const proc = this.processes.get(key);
    if (!proc) return;
    this.processes.delete(key);
    proc.endTime = ev.timestamp;
    this.giveUp(proc, proc.byName.values());
  }

  /** A CreateChanRequest: the circuit's first decides its process. */
  createRequest(state: ConnectCircuit, name: string, id: number): void {
    if (state.owner === undefined) this.decideOwner(state, name, id);
  }

  /** A CreateChanResponse for `name` (the circuit's name for its cid): the connect is made. */
  created(ev: CaEvent, state: ConnectCircuit, name: string | undefined, id: number): void {
    if (state.owner === undefined && name !== undefined) this.decideOwner(state, name, id);
    const proc = state.owner;
    const p = proc && name !== undefined ? proc.byName.get(name) : undefined;
    if (!proc || !p) {
      this.sink.orphan();
      return;
    }
    proc.forget(p);
    this.sink.pair(p, ev, proc.client, state.server, state.circuit.id);
  }

  /** A CreateChFailResponse: the connect waits on (libca tries again), marked as refused. */
  createFailed(state: ConnectCircuit, name: string | undefined, id: number): void {
    if (name === undefined) return;
    if (state.owner === undefined) this.decideOwner(state, name, id);
    const p = state.owner?.byName.get(name);
    if (p) p.refused = true;
  }

  circuitEnded(state: ConnectCircuit): void {
    const proc = state.owner;
    if (proc && proc.circuits.get(state.server) === state.circuit) proc.circuits.set(state.server, null);
  }

  /**
   * Connects waiting longer than `timeout` (at `cutoff`) are given up, and
   * processes idle since then with nothing pending and no circuit open are
   * forgotten, as are the answers before it.
   */
  sweep(cutoff: number): void {
    for (const [key, proc] of this.processes) {
      const expired: PendingConnect[] = [];
      for (const p of proc.byName.values()) {
        if (p.time >= cutoff) break;
        expired.push(p);
      }
      this.giveUp(proc, expired);
      if (proc.byName.size === 0 && proc.lastSeen < cutoff && !hasOpenCircuit(proc)) this.processes.delete(key);
    }
    for (const [hostKey, list] of this.answers) {
      const kept = list.filter((a) => a.time >= cutoff && (a.process.endTime === undefined || a.process.endTime >= cutoff));
      if (kept.length === 0) this.answers.delete(hostKey);
      else if (kept.length < list.length) this.answers.set(hostKey, kept);
    }
  }

  /** End of the capture: every connect still waiting is unanswered. */
  finish(): void {
    for (const proc of this.processes.values()) this.giveUp(proc, proc.byName.values());
    this.processes.clear();
    this.answers.clear();
  }

  private giveUp(proc: ClientProcess, pending: Iterable<PendingConnect>): void {
    for (const p of [...pending]) {
      proc.forget(p);
      this.sink.unanswered(p, proc.client, p.server, proc.stage(p));
    }
  }

  /** The rule in the header comment. */
  private decideOwner(state: ConnectCircuit, name: string, id: number): void {
    const c = state.circuit;
    const opened = c.firstSeen;
    const list = this.answers.get(`${c.clientIp}/${state.server}`);
    let best: ClientProcess | null = null;
    let bestScore = -1;
    if (list) {
      const seen = new Set<ClientProcess>();
      const stop = Math.max(0, list.length - MAX_ANSWERS_SCANNED);
      // Latest answer first: a later answer wins only by a better score.
      for (let i = list.length - 1; i >= stop; i--) {
        const { process: proc, time } = list[i]!;
        if (time > opened || seen.has(proc)) continue;
        seen.add(proc);
        if (proc.endTime !== undefined && proc.endTime < opened) continue;
        const p = proc.byName.get(name);
        const score = (p === undefined ? 0 : proc.byId.get(id) === p ? 4 : 2) + (isOpen(proc.circuits.get(state.server)) ? 0 : 1);
        if (score > bestScore) {
          best = proc;
          bestScore = score;
        }
      }
    }
    state.owner = best;
    best?.circuits.set(state.server, c);
  }
}

/** Open: in the dissector's table, and neither side has sent FIN or RST. */
function isOpen(c: TcpCircuit | null | undefined): boolean {
  return !!c && c.endedBy === undefined && !c.toServer.fin && !c.toClient.fin;
}

function hasOpenCircuit(proc: ClientProcess): boolean {
  for (const c of proc.circuits.values()) if (isOpen(c)) return true;
  return false;
}
