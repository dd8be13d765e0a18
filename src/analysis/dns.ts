// DNS queries of the CA client hosts (the summary's DNS line): libca and the CA
// tools resolve the names in EPICS_CA_ADDR_LIST and their own host name, and an
// unreachable resolver is a classic cause of slow starts. The engine hands over
// every UDP datagram no protocol claims (DissectOptions.otherDatagrams); a query
// is one to port 53 with the QR bit clear, answered by a datagram from that port
// back to the querying socket with the same 16-bit id.

import type { CaEvent } from '../dissect/event.js';
import type { DatagramView, MessageSelection } from '../dissect/options.js';

const DNS_PORT = 53;
/** An answer later than this is slow (libca's and the resolver's first retry come around here). */
export const DNS_SLOW_SEC = 1;
/** Frames of unanswered or slow queries kept as examples. */
const EXAMPLES = 10;

export interface DnsSummary {
  /** queries sent by hosts that sent CA requests */
  queries: number;
  unanswered: number;
  /** answered later than DNS_SLOW_SEC */
  slow: number;
  /** the first frames of unanswered or slow queries */
  frames: number[];
}

interface Query {
  srcIp: number;
  frame: number;
  time: number;
  answered: boolean;
}

export class DnsAnalysis {
  /** by client ip, port, DNS id and server ip */
  private readonly outstanding = new Map<string, Query>();
  private readonly all: Query[] = [];
  private readonly slow: Query[] = [];
  private readonly caClients = new Set<number>();
  private lastClient = -1;

  selection(): MessageSelection {
    // no CA message whole (its events' senders come from what the others want), the unclaimed datagrams
    return { wants: () => false, otherDatagrams: (d) => this.datagram(d) };
  }

  event(ev: CaEvent): void {
    if (ev.direction === 'request' && ev.srcIp !== this.lastClient) this.caClients.add((this.lastClient = ev.srcIp));
  }

  private datagram(d: DatagramView): void {
    if (d.len < 12 || (d.dport !== DNS_PORT && d.sport !== DNS_PORT)) return;
    const id = d.buf.readUInt16BE(d.off);
    const response = (d.buf[d.off + 2]! & 0x80) !== 0;
    if (!response && d.dport === DNS_PORT) {
      const q: Query = { srcIp: d.srcIp, frame: d.frame, time: d.time, answered: false };
      this.all.push(q);
      this.outstanding.set(`${d.srcIp}:${d.sport}:${id}:${d.dstIp}`, q);
    } else if (response && d.sport === DNS_PORT) {
      const key = `${d.dstIp}:${d.dport}:${id}:${d.srcIp}`;
      const q = this.outstanding.get(key);
      if (!q) return;
      this.outstanding.delete(key);
      q.answered = true;
      if (d.time - q.time > DNS_SLOW_SEC) this.slow.push(q);
    }
  }

  /** --every: finish leaves the analysis as it was, so the tally so far is its finish. */
  snapshot(): DnsSummary {
    return this.finish();
  }

  finish(): DnsSummary {
    const mine = (q: Query) => this.caClients.has(q.srcIp);
    const queries = this.all.filter(mine);
    const bad = queries.filter((q) => !q.answered || this.slow.includes(q));
    return {
      queries: queries.length,
      unanswered: queries.filter((q) => !q.answered).length,
      slow: this.slow.filter(mine).length,
      frames: bad.slice(0, EXAMPLES).map((q) => q.frame),
    };
  }
}
