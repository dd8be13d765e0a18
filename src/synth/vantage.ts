// One synthetic world captured at two points: A beside the clients, B beside
// the IOCs, with a network between them that delays each direction (a FIFO
// queue: a packet never overtakes the one before it), drops packets at random,
// and optionally translates the clients' addresses (NAT) so that B sees them
// rewritten. A's clock differs from B's by a given offset. The truth file says
// what was sent, lost and delayed, per direction, so `cawire compare` can be
// checked against it.

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { quantileSorted } from '../analysis/latency-stats.js';
import { CaptureWriter } from './capture-writer.js';
import { linkFrame, ipToNumber, numberToIp, udpDatagram } from './frames.js';
import { Random, sample, type Distribution } from './random.js';
import { Scenario, type ScenarioOptions } from './scenario.js';

export interface VantageOptions {
  scenario: Partial<ScenarioOptions>;
  /** one-way delay of each direction */
  up: Distribution;
  down: Distribution;
  /** fraction of packets (each direction) lost between the points */
  loss: number;
  /** A's clock minus B's, seconds */
  clockOffset: number;
  /** translate the clients' addresses and ports between the points (B sees 10.0.3.1:port) */
  nat: boolean;
  /** stop once capture A reaches this many bytes */
  maxBytes?: number;
}

export interface VantageDirectionTruth {
  /** TCP segments with data and UDP datagrams sent */
  sent: number;
  lost: number;
  /** received at the other point */
  packets: number;
  owd_ms: { min: number; p50: number; p90: number; p99: number; max: number };
}

export interface VantageTruth {
  generator: 'cawire synth --vantage client,server';
  clock_offset_s: number;
  client_to_server: VantageDirectionTruth;
  server_to_client: VantageDirectionTruth;
  /** client socket at A -> at B, when --nat */
  nat: Record<string, string>;
  files: { client: { bytes: number; packets: number }; server: { bytes: number; packets: number } };
}

const NAT_IP = ipToNumber('10.0.3.1');
/** the scenario's IOC hosts are 10.0.1.x (world.ts makeIocs) */
const isServerHost = (ip: number): boolean => ip >>> 8 === ipToNumber('10.0.1.0') >>> 8;

/** A min-heap of packets by time, first in first out among equal times: each capture's packets leave it in time order, in the order sent. */
class TimeHeap {
  /** the latest time pushed */
  latest = -Infinity;
  private readonly t: number[] = [];
  private readonly p: Uint8Array[] = [];
  /** push order, the tie-break */
  private readonly n: number[] = [];
  private pushed = 0;
  get size(): number {
    return this.t.length;
  }
  peekTime(): number {
    return this.t[0] ?? Infinity;
  }
  private less(i: number, j: number): boolean {
    const { t, n } = this;
    return t[i]! < t[j]! || (t[i] === t[j] && n[i]! < n[j]!);
  }
  private swap(i: number, j: number): void {
    const { t, p, n } = this;
    [t[i], t[j]] = [t[j]!, t[i]!];
    [p[i], p[j]] = [p[j]!, p[i]!];
    [n[i], n[j]] = [n[j]!, n[i]!];
  }
  push(time: number, packet: Uint8Array): void {
    if (time > this.latest) this.latest = time;
    let i = this.t.length;
    this.t.push(time);
    this.p.push(packet);
    this.n.push(this.pushed++);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.less(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }
  pop(): [number, Uint8Array] {
    const { t, p, n } = this;
    const top: [number, Uint8Array] = [t[0]!, p[0]!];
    const lt = t.pop()!;
    const lp = p.pop()!;
    const ln = n.pop()!;
    if (t.length > 0) {
      t[0] = lt;
      p[0] = lp;
      n[0] = ln;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < t.length && this.less(l, m)) m = l;
        if (r < t.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** One capture being written: packets queued by time, written once no earlier one can come. */
class VantageFile {
  readonly heap = new TimeHeap();
  readonly writer: CaptureWriter;
  private readonly fd: number;
  bytes = 0;
  packets = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    this.writer = new CaptureWriter({ format: 'pcap', precision: 'ns' }, (chunk) => {
      writeSync(this.fd, chunk);
      this.bytes += chunk.length;
    });
  }

  /** Writes the packets before `until` (seconds), each with its time moved by `shift`. */
  drain(until: number, shift: number, startSec: number): void {
    while (this.heap.size > 0 && this.heap.peekTime() <= until) {
      const [t, ip] = this.heap.pop();
      const at = t + shift;
      const sec = Math.floor(at);
      this.writer.writePacket(startSec + sec, Math.min(999_999_999, Math.round((at - sec) * 1e9)), linkFrame(1, ip));
      this.packets++;
    }
  }

  close(): void {
    this.writer.flush();
    closeSync(this.fd);
  }
}

/** What both captures have a second before the world's first packet and after its last: a datagram to the discard port. */
/** seconds the captures run before the world's first packet and after its last */
const LEAD = 1;
const MARKER = udpDatagram({ ip: '10.0.9.9', port: 9 }, { ip: '10.0.9.10', port: 9 }, new Uint8Array(4));

/** Whether a packet is one `cawire compare` matches: a TCP segment with data, or a UDP datagram. */
function compared(ip: Uint8Array): boolean {
  const ihl = (ip[0]! & 15) * 4;
  const total = (ip[2]! << 8) | ip[3]!;
  if (ip[9] === 17) return true;
  return ip[9] === 6 && total - ihl - (ip[ihl + 12]! >> 4) * 4 > 0;
}

function ipChecksum(ip: Uint8Array): void {
  const ihl = (ip[0]! & 15) * 4;
  ip[10] = ip[11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (ip[i]! << 8) | ip[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
}

/** Rewrites the address and port at (ipAt, portAt) of a copy of the packet. */
function rewrite(ip: Uint8Array, ipAt: number, portAt: number, addr: number, port: number): Uint8Array {
  const out = Uint8Array.from(ip);
  const ihl = (out[0]! & 15) * 4;
  out[ipAt] = addr >>> 24;
  out[ipAt + 1] = (addr >>> 16) & 255;
  out[ipAt + 2] = (addr >>> 8) & 255;
  out[ipAt + 3] = addr & 255;
  out[ihl + portAt] = port >> 8;
  out[ihl + portAt + 1] = port & 255;
  if (out[9] === 17) out[ihl + 6] = out[ihl + 7] = 0; // UDP: no checksum
  ipChecksum(out);
  return out;
}

const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function directionTruth(sent: number, lost: number, delays: number[]): VantageDirectionTruth {
  const sorted = Float64Array.from(delays).sort();
  const q = (p: number): number => (sorted.length ? Math.round(quantileSorted(sorted, p) * 1e9) / 1e6 : NaN);
  return { sent, lost, packets: delays.length, owd_ms: { min: q(0), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) } };
}

/** Writes capture A (client side) to `clientPath` and B to `serverPath`, and the truth beside them. */
export function writeVantageCaptures(o: VantageOptions, clientPath: string, serverPath: string, truthPath?: string): VantageTruth {
  const start = o.scenario.startTime ?? 0;
  const random = new Random((o.scenario.seed ?? 1) * 7919 + 17);
  const files = [new VantageFile(clientPath), new VantageFile(serverPath)] as const;
  const lastArrival = [-Infinity, -Infinity];
  const sent = [0, 0];
  const lost = [0, 0];
  const delays: [number[], number[]] = [[], []];
  const nat = new Map<number, number>();
  let nextNatPort = 20000;
  const natPort = (ip: number, port: number): number => {
    const k = ip * 65536 + port;
    let p = nat.get(k);
    if (p === undefined) nat.set(k, (p = nextNatPort++));
    return p;
  };
  // The scenario's times are the clients' view: what the IOCs send leaves B the up delay's median later, so that
  // B sees a request before its reply (an IOC answers what has reached it; exact for a fixed up delay).
  const serverLag = o.up.medianNs / 1e9;
  const scenario = new Scenario({ ...o.scenario, loss: 0, retransmit: 0, missedBeacons: 0 }, (sec, nsec, ip) => {
    const down = isServerHost(u32(ip, 12));
    const now = sec - start + nsec / 1e9;
    // Both captures start a second before the world's first packet (one datagram to the discard port each, not CA).
    if (files[0].heap.latest === -Infinity) for (const f of files) f.heap.push(Math.max(now - LEAD, -start), MARKER);
    const t = now + (down ? serverLag : 0);
    const dir = down ? 1 : 0;
    const from = files[down ? 1 : 0];
    const to = files[down ? 0 : 1];
    const ihl = (ip[0]! & 15) * 4;
    let atB = ip;
    if (o.nat) {
      // B sees the client's socket translated: its source going up, its destination coming down.
      atB = down
        ? rewrite(ip, 16, 2, NAT_IP, natPort(u32(ip, 16), (ip[ihl + 2]! << 8) | ip[ihl + 3]!))
        : rewrite(ip, 12, 0, NAT_IP, natPort(u32(ip, 12), (ip[ihl]! << 8) | ip[ihl + 1]!));
    }
    from.heap.push(t, down ? atB : ip);
    const counted = compared(ip);
    if (counted) sent[dir]!++;
    if (random.next() < o.loss) {
      if (counted) lost[dir]!++;
    } else {
      const arrival = Math.max(lastArrival[dir]!, t + sample(down ? o.down : o.up, random) / 1e9);
      lastArrival[dir] = arrival;
      to.heap.push(arrival, down ? ip : atB);
      if (counted) delays[dir]!.push(arrival - t);
    }
    // Nothing earlier than now can come any more.
    files[0].drain(now, o.clockOffset, start);
    files[1].drain(now, 0, start);
  });
  const limit = o.maxBytes ?? Infinity;
  let finished = false;
  while (!finished && files[0].bytes < limit) finished = scenario.run(() => files[0].bytes >= limit);
  // And on a second past the world's last packet: a packet lost at the very end was lost while the other point was capturing.
  const end = Math.max(files[0].heap.latest, files[1].heap.latest) + LEAD;
  for (const f of files) f.heap.push(end, MARKER);
  files[0].drain(Infinity, o.clockOffset, start);
  files[1].drain(Infinity, 0, start);
  for (const f of files) f.close();
  const port = (k: number): string => `${numberToIp(Math.floor(k / 65536))}:${k % 65536}`;
  const truth: VantageTruth = {
    generator: 'cawire synth --vantage client,server',
    clock_offset_s: o.clockOffset,
    client_to_server: directionTruth(sent[0]!, lost[0]!, delays[0]),
    server_to_client: directionTruth(sent[1]!, lost[1]!, delays[1]),
    nat: Object.fromEntries([...nat].map(([k, p]) => [port(k), `${numberToIp(NAT_IP)}:${p}`])),
    files: { client: { bytes: files[0].bytes, packets: files[0].packets }, server: { bytes: files[1].bytes, packets: files[1].packets } },
  };
  if (truthPath) writeFileSync(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
