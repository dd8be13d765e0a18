// What caSnooper tells, from a capture: which PV names are searched for, by whom
// and how often, which server answers and how fast, names nobody answers (with
// the client's back-off), names two servers answer (duplicate PVs), per-client
// search rates, and storms (ca-protocol-notes §10, §12).

import { ANY_ADDRESS } from '../../protocols/ca/constants.js';
import { SearchRequest, SearchResponse } from '../../protocols/ca/messages.js';
import { unixSeconds } from '../capture/types.js';
import { endpointKey } from '../dissect/circuits.js';
import type { CaEvent } from '../dissect/event.js';
import type { MessageSelection } from '../dissect/options.js';
import { momentOf, type Moment } from './moment.js';

/** Width of the sliding window for peak rates and storms, in seconds. */
export const RATE_WINDOW_SEC = 1;

/** One client's transmissions of one search id: libca re-sends the same id with back-off until answered. */
interface SearchSeries {
  name: string;
  client: string;
  times: number[];
  first: Moment;
  last: Moment;
  answered: boolean;
}

export interface ServerAnswer {
  /** the ip:port the reply tells the client to connect to */
  server: string;
  replies: number;
  firstReply: Moment;
  /** seconds from the client's latest transmission of the search to each reply */
  latencies: number[];
}

export interface NameSearches {
  name: string;
  /** SEARCH messages for this name, every client and retry counted */
  searches: number;
  /** client ip:port that searched */
  clients: Set<string>;
  first: Moment;
  last: Moment;
  /** the servers that answered, by the ip:port their replies name */
  servers: Map<string, ServerAnswer>;
}

/** A client whose searches for a name got no reply in the capture. */
export interface UnansweredSearch {
  name: string;
  client: string;
  searches: number;
  first: Moment;
  last: Moment;
  /** seconds between consecutive searches, in order: the client's back-off */
  intervals: number[];
  /** the name did get replies: to another client, or to an earlier search */
  nameAnswered: boolean;
}

export interface ClientSearches {
  client: string;
  searches: number;
  first: Moment;
  last: Moment;
  /** searches per second from the client's first to its last search; undefined when they are simultaneous */
  rate: number | undefined;
  /** most searches in any RATE_WINDOW_SEC window */
  peak: number;
  /** searches per name */
  names: Map<string, number>;
}

/** A stretch of time in which every 1 s window starting at a search held more searches than the storm rate. */
export interface SearchStorm {
  first: Moment;
  last: Moment;
  searches: number;
  /** most searches in any RATE_WINDOW_SEC window of the storm */
  peak: number;
  clients: Set<string>;
  names: Map<string, number>;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The names of `counts` with the highest counts first (ties by name). */
export function topCounts(counts: ReadonlyMap<string, number>, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || compare(a[0], b[0])).slice(0, n);
}

/** For each of sorted `times`, how many of them fall in the window [that time, that time + width). */
export function windowCounts(times: readonly number[], width: number): number[] {
  const counts = new Array<number>(times.length);
  let end = 0;
  for (let i = 0; i < times.length; i++) {
    while (end < times.length && times[end]! < times[i]! + width) end++;
    counts[i] = end - i;
  }
  return counts;
}

/** The most events of sorted `times` in any window [t, t + width) starting at one of them. */
export function peakInWindow(times: readonly number[], width: number): number {
  return windowCounts(times, width).reduce((peak, n) => Math.max(peak, n), 0);
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Every search of the capture in parallel arrays (a few numbers per search, no objects). */
class SearchLog {
  readonly sec: number[] = [];
  readonly nsec: number[] = [];
  readonly frame: number[] = [];
  readonly client: string[] = [];
  readonly name: string[] = [];

  add(ev: CaEvent, client: string, name: string): void {
    this.sec.push(ev.tsSec);
    this.nsec.push(ev.tsNsec);
    this.frame.push(ev.frame);
    this.client.push(client);
    this.name.push(name);
  }
  time(i: number): number {
    return unixSeconds(this.sec[i]!, this.nsec[i]!);
  }
  moment(i: number): Moment {
    return { sec: this.sec[i]!, nsec: this.nsec[i]!, time: this.time(i), frame: this.frame[i]! };
  }
  /** indices in time order (capture order is almost, but not always, time order) */
  timeOrder(): number[] {
    const order = this.sec.map((_, i) => i);
    return order.sort((a, b) => this.time(a) - this.time(b) || a - b);
  }
}

interface ClientTally {
  searches: number;
  first: Moment;
  last: Moment;
  names: Map<string, number>;
}

export class SearchReport {
  constructor(
    /** most searched first */
    readonly names: NameSearches[],
    /** most searched first */
    readonly unanswered: UnansweredSearch[],
    /** busiest first */
    readonly clients: ClientSearches[],
    private readonly log: SearchLog,
    private readonly order: number[],
  ) {}

  /** Names answered by more than one server: the "Identical process variable names" case. */
  get duplicates(): NameSearches[] {
    return this.names.filter((n) => n.servers.size > 1);
  }

  /**
   * Clients grouped by `key` of their ip:port (--by host, --by user), busiest
   * first: first and last are the group's earliest and latest searches.
   */
  clientsBy(key: (client: string) => string): ClientSearches[] {
    const { log, order } = this;
    const groups = new Map<string, { searches: number; first: number; last: number; names: Map<string, number>; times: number[] }>();
    for (const i of order) {
      const k = key(log.client[i]!);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { searches: 0, first: i, last: i, names: new Map(), times: [] }));
      g.searches++;
      g.last = i;
      increment(g.names, log.name[i]!);
      g.times.push(log.time(i));
    }
    const out: ClientSearches[] = [];
    for (const [client, g] of groups) {
      const first = log.moment(g.first);
      const last = log.moment(g.last);
      const span = last.time - first.time;
      out.push({ client, searches: g.searches, first, last, rate: span > 0 ? g.searches / span : undefined, peak: peakInWindow(g.times, RATE_WINDOW_SEC), names: g.names });
    }
    return out.sort((a, b) => b.searches - a.searches || compare(a.client, b.client));
  }

  /** Stretches where some 1 s window starting at a search holds more than `rate` searches. */
  storms(rate: number): SearchStorm[] {
    const { log, order } = this;
    const storms: SearchStorm[] = [];
    let from = -1; // first and last position (in `order`) of the storm being built
    let to = -1;
    let peak = 0;
    const close = () => {
      if (from < 0) return;
      const clients = new Set<string>();
      const names = new Map<string, number>();
      for (let k = from; k <= to; k++) {
        clients.add(log.client[order[k]!]!);
        increment(names, log.name[order[k]!]!);
      }
      storms.push({ first: log.moment(order[from]!), last: log.moment(order[to]!), searches: to - from + 1, peak, clients, names });
    };
    const counts = windowCounts(order.map((i) => log.time(i)), RATE_WINDOW_SEC);
    counts.forEach((count, k) => {
      if (count <= rate) return;
      const end = k + count - 1;
      if (from >= 0 && k <= to) {
        to = Math.max(to, end);
        peak = Math.max(peak, count);
      } else {
        close();
        from = k;
        to = end;
        peak = count;
      }
    });
    close();
    return storms;
  }
}

/** Collects SEARCH requests and replies; `finish()` gives the report. */
export class SearchAnalysis {
  /** client endpoint key -> search id -> the current series of that id */
  private readonly current = new Map<number, Map<number, SearchSeries>>();
  private readonly allSeries: SearchSeries[] = [];
  private readonly byName = new Map<string, NameSearches>();
  private readonly byClient = new Map<string, ClientTally>();
  private readonly log = new SearchLog();

  /** What the report reads, as dissection options: UDP searches and replies; no TCP message whole. */
  selection(): MessageSelection {
    return { wants: () => false, copyMessages: true };
  }

  event(ev: CaEvent): void {
    const m = ev.command;
    if (m instanceof SearchRequest) this.request(ev, m);
    else if (m instanceof SearchResponse) this.reply(ev, m);
  }

  private request(ev: CaEvent, m: SearchRequest): void {
    const client = `${ev.src}:${ev.sport}`;
    const name = m.name;
    const at = momentOf(ev);
    const key = endpointKey(ev.srcIp, ev.sport);
    let ids = this.current.get(key);
    if (!ids) this.current.set(key, (ids = new Map()));
    let series = ids.get(m.cid);
    // A new series when the id is new, names another PV, or is searched again after an answer (a lost circuit).
    if (!series || series.name !== name || series.answered) {
      series = { name, client, times: [], first: at, last: at, answered: false };
      ids.set(m.cid, series);
      this.allSeries.push(series);
    }
    series.times.push(at.time);
    series.last = at;

    let pv = this.byName.get(name);
    if (!pv) this.byName.set(name, (pv = { name, searches: 0, clients: new Set(), first: at, last: at, servers: new Map() }));
    pv.searches++;
    pv.clients.add(client);
    pv.last = at;

    let tally = this.byClient.get(client);
    if (!tally) this.byClient.set(client, (tally = { searches: 0, first: at, last: at, names: new Map() }));
    tally.searches++;
    tally.last = at;
    increment(tally.names, name);

    this.log.add(ev, client, name);
  }

  private reply(ev: CaEvent, m: SearchResponse): void {
    const series = this.current.get(endpointKey(ev.dstIp, ev.dport))?.get(m.cid);
    if (!series) return; // the search was not captured
    series.answered = true;
    const server = `${m.parameter1 === ANY_ADDRESS ? ev.src : m.ip}:${m.port}`;
    const pv = this.byName.get(series.name)!;
    let answer = pv.servers.get(server);
    if (!answer) pv.servers.set(server, (answer = { server, replies: 0, firstReply: momentOf(ev), latencies: [] }));
    answer.replies++;
    answer.latencies.push(ev.timestamp - series.last.time);
  }

  /** --every: finish leaves the analysis as it was, so the report so far is its finish. */
  snapshot(): SearchReport {
    return this.finish();
  }

  finish(): SearchReport {
    const names = [...this.byName.values()].sort((a, b) => b.searches - a.searches || compare(a.name, b.name));
    const order = this.log.timeOrder();
    return new SearchReport(names, this.unanswered(), this.clients(order), this.log, order);
  }

  /** Series never answered, merged per (client, name), in capture order. */
  private unanswered(): UnansweredSearch[] {
    const byClient = new Map<string, Map<string, SearchSeries[]>>();
    for (const s of this.allSeries) {
      if (s.answered) continue;
      let names = byClient.get(s.client);
      if (!names) byClient.set(s.client, (names = new Map()));
      const group = names.get(s.name);
      if (group) group.push(s);
      else names.set(s.name, [s]);
    }
    const out: UnansweredSearch[] = [];
    for (const [client, names] of byClient) {
      for (const [name, group] of names) {
        const times = group.flatMap((s) => s.times).sort((a, b) => a - b);
        out.push({
          name,
          client,
          searches: times.length,
          first: group[0]!.first,
          last: group[group.length - 1]!.last,
          intervals: times.slice(1).map((t, i) => t - times[i]!),
          nameAnswered: this.byName.get(name)!.servers.size > 0,
        });
      }
    }
    return out.sort((a, b) => b.searches - a.searches || compare(a.name, b.name) || compare(a.client, b.client));
  }

  private clients(order: number[]): ClientSearches[] {
    const times = new Map<string, number[]>();
    for (const i of order) {
      const client = this.log.client[i]!;
      let list = times.get(client);
      if (!list) times.set(client, (list = []));
      list.push(this.log.time(i));
    }
    const out: ClientSearches[] = [];
    for (const [client, t] of this.byClient) {
      const span = t.last.time - t.first.time;
      out.push({
        client,
        searches: t.searches,
        first: t.first,
        last: t.last,
        rate: span > 0 ? t.searches / span : undefined,
        peak: peakInWindow(times.get(client)!, RATE_WINDOW_SEC),
        names: t.names,
      });
    }
    return out.sort((a, b) => b.searches - a.searches || compare(a.client, b.client));
  }
}
