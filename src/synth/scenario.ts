// A deterministic, seeded simulation of CA traffic on a control network, written
// as IPv4 packets in time order: IOCs beaconing (RSRV pattern, restarts, missed
// beacons), clients searching with libca-like back-off (some names never found),
// TCP circuits carrying every common request and its reply, monitor updates of
// scalars and waveforms that span many segments, and injected server latencies,
// capture loss, reordering and retransmissions. The truth of what was written
// is accounted packet by packet (truth.ts).
//
// Memory holds only the live state (open circuits, channels, pending actions and
// the packets of sends in flight), never anything that grows with the output.

import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '../../protocols/ca/constants.js';
import { ECA_NORMAL, ECA_PUTFAIL } from '../../protocols/ca/eca.js';
import * as ca from './ca-encode.js';
import { IP_PROTO_UDP, TCP, ipToNumber, ipv4Packet, numberToIp, udpDatagram } from './frames.js';
import { Random, formatDistribution, sample, type Distribution } from './random.js';
import { StreamTruth, type StreamMessage } from './stream-truth.js';
import { TcpSession, type SegmentFault, type TcpSide } from './tcp-session.js';
import { TimeQueue } from './timeline.js';
import { TruthRecorder, type TruthPairKind, type PairTruth, type SearchTruth, type TruthEffect, type TruthReport } from './truth.js';
import {
  dbrCtrlType,
  dbrTimeType,
  ephemeralPort,
  makeClients,
  makeIocs,
  makePvs,
  putPayload,
  pvPayload,
  unfoundNames,
  type ClientHost,
  type Ioc,
  type Pv,
} from './world.js';

export interface ScenarioOptions {
  seed: number;
  iocs: number;
  clients: number;
  /** PVs served, spread over the IOCs */
  pvs: number;
  /** names no IOC serves (clients search for them for ever) */
  unfound: number;
  /** scenario time to simulate (ns); undefined = until the caller stops it */
  durationNs: number | undefined;
  /** CA messages per second to aim for; monitor updates make up most of them */
  rate: number;
  /** server latency per IOC name ('ioc1', …); others draw from defaultLatency */
  latency: Record<string, Distribution>;
  defaultLatency: Distribution;
  /** fraction of TCP sends whose last segment the capture misses (a capture gap) */
  loss: number;
  /** fraction of multi-segment TCP sends with two segments swapped */
  reorder: number;
  /** fraction of TCP sends with one segment sent twice */
  retransmit: number;
  /** IOC restarts, spread evenly over the duration (60 s when only a size limit is given) */
  restarts: number;
  /** fraction of beacons the capture misses */
  missedBeacons: number;
  /** TCP maximum segment size */
  mss: number;
  /** Unix seconds at scenario time 0 */
  startTime: number;
  /** pairs listed one by one in the truth; later ones are only aggregated */
  pairsLimit: number;
}

export const SCENARIO_DEFAULTS: ScenarioOptions = {
  seed: 1,
  iocs: 3,
  clients: 4,
  pvs: 40,
  unfound: 3,
  durationNs: 60e9,
  rate: 1000,
  latency: {},
  defaultLatency: { kind: 'lognormal', medianNs: 200_000, sigma: 0.5 },
  loss: 0,
  reorder: 0,
  retransmit: 0,
  restarts: 0,
  missedBeacons: 0,
  mss: 1448,
  startTime: 1767225600, // 2026-01-01T00:00:00Z
  pairsLimit: 100_000,
};

/** Receives the scenario's IPv4 packets in time order. */
export type PacketOut = (tsSec: number, tsNsec: number, ipPacket: Uint8Array) => void;

const US = 1_000;
const MS = 1_000_000;
const SEC = 1_000_000_000;
/** CA minor version every peer here speaks (ca-protocol-notes §8) */
const CA_MINOR = 13;
const BROADCAST = ipToNumber('10.0.255.255');
/** time between the packets of one send (TcpSession's spacing) */
const PACKET_SPACING = 10 * US;
/** messages queued within this window go out in one send (libca/RSRV flush their buffers) */
const COALESCE = 20 * US;
/** libca: datagrams of at most 1024 bytes; search timers start at 32 ms and double (§10) */
const MAX_SEARCH_DATAGRAM = 1024;
const SEARCH_FIRST_PERIOD = 32 * MS;
const SEARCH_MAX_PERIOD = 300 * SEC;
/** datagrams of one search round go out this far apart */
const DATAGRAM_SPACING = 5 * US;
/** channels of a lost circuit wait this long before searching again (§10) */
const DISCONNECT_GOVERNOR = 10 * SEC;
/** libca sends ECHO after this long without traffic from the server (§11) */
const ECHO_IDLE = 30 * SEC;
/** RSRV beacons: first interval 20 ms, doubling up to 15 s (§9) */
const BEACON_FIRST_INTERVAL = 20 * MS;
const BEACON_MAX_INTERVAL = 15 * SEC;
/** caget waits this long for names (its -w default) */
const CAGET_TIMEOUT = 1 * SEC;
const CAGET_MEAN_INTERVAL = 4 * SEC;
const MONITOR_CLIENT_MEAN_ACTIVITY = 2 * SEC;
const GATEWAY_MEAN_DISCONNECT = 20 * SEC;
/** nominal span over which restarts are spread when no duration is given */
const NOMINAL_DURATION = 60 * SEC;
/** monitor clients want each PV with this probability, and subscribe to this share of their channels */
const WANT_PV = 0.5;
const SUBSCRIBE = 0.9;
/** share of the target message rate that is monitor updates */
const UPDATE_SHARE = 0.9;
const DBE_VALUE_ALARM = 1 | 4;
const DBE_VALUE_LOG_ALARM = 1 | 2 | 4;

/** to the microsecond grid, so µs and ns captures of a scenario hold the same times */
const onGrid = (ns: number): number => Math.round(ns / US) * US;

/** A CA message queued on a circuit, with what happens when the peer has it. */
class Outgoing implements StreamMessage {
  completedAt?: number;
  constructor(
    readonly type: string,
    readonly bytes: Buffer,
    /** the peer got the message at `at`; `capturedAt` is when the capture shows it complete (if it does) */
    readonly onArrival?: (at: number, capturedAt: number | undefined) => void,
    readonly pair?: PairTruth,
    readonly search?: SearchTruth,
  ) {}

  effect(): TruthEffect {
    return { kind: 'message', type: this.type, pair: this.pair, search: this.search };
  }
}

type ChannelState = 'searching' | 'connecting' | 'connected' | 'idle' | 'done';

interface Channel {
  name: string;
  pv: Pv | undefined;
  client: Client;
  cid: number;
  state: ChannelState;
  /** searches sent since the channel (re)started searching */
  tries: number;
  nextSearchAt: number;
  /** when this spell of searching first asked for the name; its first reply is the search pair */
  firstSearchAt: number | undefined;
  searchAnswered: boolean;
  circuit?: Circuit;
  sid: number;
  writable: boolean;
  sub?: Subscription;
  /** caget: its read (and write) came back */
  served: boolean;
}

interface Subscription {
  circuit: Circuit;
  subid: number;
  dataType: number;
  count: number;
  /** the first update after EVENT_ADD is the subscribe pair's response */
  firstPair?: PairTruth;
}

class Circuit {
  open = true;
  /** who closed it (its FIN or RST packets tell the truth recorder when the server did) */
  closedBy?: TcpSide;
  /** the session may start its next send at this time */
  busyUntil = 0;
  lastEmitAt = 0;
  lastServerDataAt: number;
  readonly outbox: Record<TcpSide, Outgoing[]> = { client: [], server: [] };
  readonly flushPending: Record<TcpSide, boolean> = { client: false, server: false };
  readonly channels = new Set<Channel>();
  readonly streams: Record<TcpSide, StreamTruth>;
  pendingClears = 0;
  readonly session: TcpSession;

  constructor(
    readonly client: Client,
    readonly server: Server,
    readonly clientPort: number,
    isn: Record<TcpSide, number>,
    startTime: number,
    at: number,
    emit: (circuit: Circuit, sec: number, nsec: number, ip: Uint8Array) => void,
  ) {
    this.streams = { client: new StreamTruth((isn.client + 1) >>> 0), server: new StreamTruth((isn.server + 1) >>> 0) };
    this.lastServerDataAt = at;
    this.session = new TcpSession(
      {
        client: { ip: client.host.ip, port: clientPort },
        server: { ip: server.ioc.ip, port: server.ioc.port },
        isn,
        packetSpacingNs: PACKET_SPACING,
        epochSec: startTime,
      },
      (sec, nsec, ip) => emit(this, sec, nsec, ip),
    );
  }
}

/** An IOC's running state. */
class Server {
  up = true;
  /** bumped at each restart: actions of the previous incarnation are dropped */
  generation = 0;
  nextSid = 1;
  beaconsSent = 0;
  beaconIdBase: number;
  beaconInterval = BEACON_MAX_INTERVAL;
  beaconMissed = false;
  readonly circuits = new Set<Circuit>();
  readonly subscribers = new Map<Pv, Set<Subscription>>();
  /** records whose processing loop is running (while they have subscribers) */
  readonly processing = new Set<Pv>();
  readonly ports: number[];

  constructor(
    readonly ioc: Ioc,
    random: Random,
  ) {
    this.beaconIdBase = random.int(100, 5000);
    this.ports = [ioc.port];
  }
}

/** A client host and the CA client process running on it. */
class Client {
  /** bumped when a new process starts (caget runs): replies to the old one are dropped */
  process = 0;
  udpPort: number;
  searchSeq = 0;
  nextCid = 1;
  nextIoid = 1;
  channels: Channel[] = [];
  readonly circuits = new Map<Server, Circuit>();
  searchTickAt = Infinity;
  nextTcpPort: number;
  /** caget: the run in progress */
  run?: { put: boolean; clearing: boolean };

  constructor(
    readonly host: ClientHost,
    random: Random,
  ) {
    this.udpPort = ephemeralPort(random);
    this.nextTcpPort = ephemeralPort(random);
  }

  takeTcpPort(): number {
    const port = this.nextTcpPort;
    this.nextTcpPort = port >= 60999 ? 32768 : port + 1;
    return port;
  }
}

export class Scenario {
  readonly options: ScenarioOptions;
  private readonly random: Random;
  /** separate streams so that enabling faults or missed beacons leaves the rest of the traffic as it was */
  private readonly faultRandom: Random;
  private readonly beaconRandom: Random;
  private readonly actions = new TimeQueue<() => void>();
  private readonly packets = new TimeQueue<{ ip: Uint8Array; effects: TruthEffect[] | undefined }>();
  private readonly truthRecorder: TruthRecorder;
  private readonly servers: Server[];
  private readonly clients: Client[];
  private readonly pvByName = new Map<string, Pv>();
  private readonly pvs: Pv[];
  private readonly unfound: string[];
  private readonly ipIds = new Map<number, number>();
  /** scenario time of the action running */
  private now = 0;
  private finished = false;

  constructor(
    options: Partial<ScenarioOptions>,
    private readonly out: PacketOut,
  ) {
    const o = (this.options = { ...SCENARIO_DEFAULTS, ...options });
    if (o.iocs < 1 || o.clients < 1 || o.pvs < 1) throw new RangeError('a scenario needs at least one IOC, client and PV');
    this.random = new Random(o.seed);
    this.faultRandom = this.random.fork();
    this.beaconRandom = this.random.fork();
    this.truthRecorder = new TruthRecorder(o.pairsLimit);
    const iocs = makeIocs(o.iocs, (name) => o.latency[name] ?? o.defaultLatency, this.random);
    const hosts = makeClients(o.clients);
    const monitorClients = hosts.filter((h) => h.kind === 'monitor').length;
    const subscribersPerPv = Math.max(monitorClients * WANT_PV * SUBSCRIBE, 0.1);
    this.pvs = makePvs(iocs, o.pvs, o.rate * UPDATE_SHARE, subscribersPerPv, this.random);
    for (const pv of this.pvs) this.pvByName.set(pv.name, pv);
    this.unfound = unfoundNames(o.unfound);
    this.servers = iocs.map((ioc) => new Server(ioc, this.random));
    this.clients = hosts.map((host) => new Client(host, this.random));
    this.start();
  }

  /**
   * Generates packets until `pause()` returns true (asked after each packet) or
   * the scenario is over. Returns true once everything has been written.
   */
  run(pause: () => boolean): boolean {
    const end = this.options.durationNs ?? Infinity;
    while (!this.finished) {
      const next = this.actions.peekTime();
      const last = next > end || next === Infinity;
      while (this.packets.peekTime() <= next || (last && this.packets.size > 0)) {
        this.writePacket();
        if (pause()) return this.finished;
      }
      if (last) {
        this.finished = true;
        break;
      }
      const action = this.actions.pop()!;
      this.now = action.at;
      action.item();
    }
    return true;
  }

  truth(): TruthReport {
    const o = this.options;
    return this.truthRecorder.report({
      generator: 'cawire synth',
      startTime: o.startTime,
      options: {
        seed: o.seed,
        iocs: o.iocs,
        clients: o.clients,
        pvs: o.pvs,
        unfound: o.unfound,
        durationSec: o.durationNs === undefined ? null : o.durationNs / SEC,
        rate: o.rate,
        defaultLatency: formatDistribution(o.defaultLatency),
        loss: o.loss,
        reorder: o.reorder,
        retransmit: o.retransmit,
        restarts: o.restarts,
        missedBeacons: o.missedBeacons,
        mss: o.mss,
      },
      iocs: this.servers.map((s) => ({
        name: s.ioc.name,
        ip: numberToIp(s.ioc.ip),
        ports: s.ports,
        latency: formatDistribution(s.ioc.latency),
        gateway: s.ioc.gateway,
        pvs: s.ioc.pvs.length,
      })),
      clients: this.clients.map((c) => ({ name: c.host.name, ip: numberToIp(c.host.ip), kind: c.host.kind })),
    });
  }

  // ---- scheduling and output ------------------------------------------------

  private at(time: number, action: () => void): void {
    this.actions.push(onGrid(time), action);
  }

  private writePacket(): void {
    const { at, item } = this.packets.pop()!;
    this.truthRecorder.packetWritten(at, item.ip.length, item.effects);
    const sec = Math.floor(at / SEC);
    this.out(this.options.startTime + sec, at - sec * SEC, item.ip);
  }

  private emit(at: number, ip: Uint8Array, effects: TruthEffect[] | undefined): void {
    this.packets.push(at, { ip, effects });
  }

  private nextIpId(ip: number): number {
    const id = this.ipIds.get(ip) ?? 0;
    this.ipIds.set(ip, (id + 1) & 0xffff);
    return id;
  }

  private udp(at: number, src: number, sport: number, dst: number, dport: number, messages: Outgoing[], extra: TruthEffect[] = []): void {
    const payload = Buffer.concat(messages.map((m) => m.bytes));
    const ip = ipv4Packet(src, dst, IP_PROTO_UDP, udpDatagram({ ip: src, port: sport }, { ip: dst, port: dport }, payload), {
      id: this.nextIpId(src),
    });
    this.emit(at, ip, [...messages.map((m) => m.effect()), ...extra]);
  }

  private latencyOf(server: Server): number {
    return Math.max(US, onGrid(sample(server.ioc.latency, this.random)));
  }

  private clientDelay(): number {
    return this.random.int(10, 60) * US;
  }

  /** The truth of a response to a request the capture holds (completed at `capturedAt`), else none. */
  private pair(kind: TruthPairKind, between: { client: Client; server: Server }, pv: string | undefined, capturedAt: number | undefined, injectedNs: number): PairTruth | undefined {
    if (capturedAt === undefined) return undefined;
    return { kind, ioc: between.server.ioc.name, client: between.client.host.name, pv, requestAt: capturedAt, injectedNs };
  }

  // ---- start-up -------------------------------------------------------------

  private start(): void {
    const o = this.options;
    for (const server of this.servers) {
      this.at(this.random.next() * BEACON_MAX_INTERVAL, () => this.beacon(server, 0));
      if (server.ioc.gateway) this.at(this.random.exponential(GATEWAY_MEAN_DISCONNECT), () => this.gatewayDisconnect(server));
    }
    const span = o.durationNs ?? NOMINAL_DURATION;
    for (let k = 0; k < o.restarts; k++) {
      const server = this.servers[k % this.servers.length]!;
      this.at(((k + 1) * span) / (o.restarts + 1), () => this.restart(server));
    }
    for (const client of this.clients) {
      if (client.host.kind === 'monitor') {
        const startAt = this.random.next() * 500 * MS;
        const names = this.pvs.filter(() => this.random.chance(WANT_PV)).map((pv) => pv.name);
        if (names.length === 0) names.push(this.random.pick(this.pvs).name);
        for (const name of this.unfound) if (this.random.chance(WANT_PV)) names.push(name);
        this.at(startAt, () => {
          for (const name of names) this.want(client, name, this.now);
          this.at(this.now + this.random.exponential(MONITOR_CLIENT_MEAN_ACTIVITY), () => this.monitorActivity(client));
        });
      } else {
        this.at(this.random.next() * SEC, () => this.cagetRun(client));
      }
    }
  }

  // ---- beacons and restarts -------------------------------------------------

  private beacon(server: Server, generation: number): void {
    if (!server.up || generation !== server.generation) return;
    const fresh = server.generation > 0;
    // RSRV assigns the id after the first send: a restarted IOC sends 0, 0, 1, 2, … (§9)
    const id = fresh ? Math.max(0, server.beaconsSent - 1) : server.beaconIdBase + server.beaconsSent;
    server.beaconsSent++;
    if (this.beaconRandom.chance(this.options.missedBeacons)) {
      this.truthRecorder.beaconMissed(server.ioc.name, id, this.now);
      server.beaconMissed = true;
    } else {
      const msg = new Outgoing('Beacon', ca.beacon({ version: CA_MINOR, server_port: server.ioc.port, beacon_id: id }));
      this.udp(this.now, server.ioc.ip, server.ioc.beaconPort, BROADCAST, DEFAULT_REPEATER_PORT, [msg], [{ kind: 'beacon', ioc: server.ioc.name }]);
      // a beacon late by a missed one makes connected libca clients check their circuit (§9.1)
      if (server.beaconMissed) {
        for (const circuit of server.circuits) this.echo(circuit, this.now + this.clientDelay());
      }
      server.beaconMissed = false;
    }
    const interval = server.beaconInterval;
    server.beaconInterval = Math.min(interval * 2, BEACON_MAX_INTERVAL);
    this.at(this.now + interval, () => this.beacon(server, generation));
  }

  private restart(server: Server): void {
    if (!server.up) return;
    const downAt = this.now;
    server.up = false;
    server.generation++;
    const clients = new Set([...server.circuits].map((c) => c.client.host.name));
    this.truthRecorder.iocDown(server.ioc.name, downAt, [...clients], server.ioc.port);
    for (const circuit of [...server.circuits]) {
      // the IOC process died and its host closed the sockets
      this.closeCircuit(circuit, 'server', downAt, this.random.chance(0.3));
    }
    server.subscribers.clear();
    server.processing.clear();
    const upAt = downAt + this.random.int(2000, 5000) * MS;
    this.at(upAt, () => {
      if (server.ioc.ephemeral) {
        server.ioc.port = ephemeralPort(this.random);
        server.ports.push(server.ioc.port);
      }
      server.up = true;
      server.beaconsSent = 0;
      server.beaconInterval = BEACON_FIRST_INTERVAL;
      this.truthRecorder.iocUp(server.ioc.name, this.now, server.ioc.port);
      this.beacon(server, server.generation);
      // the beacon anomaly sends every client with unresolved channels searching soon (§9.1, §10)
      for (const client of this.clients) {
        for (const ch of client.channels) {
          if (ch.state !== 'searching') continue;
          ch.tries = 0;
          ch.nextSearchAt = Math.min(ch.nextSearchAt, onGrid(this.now + this.random.int(20, 200) * MS));
        }
        this.scheduleSearch(client);
      }
    });
  }

  // ---- name search ----------------------------------------------------------

  /** The client starts a channel for `name`: a new CID, searching now. */
  private want(client: Client, name: string, at: number): Channel {
    const ch: Channel = {
      name,
      pv: this.pvByName.get(name),
      client,
      cid: client.nextCid++,
      state: 'searching',
      tries: 0,
      nextSearchAt: onGrid(at),
      firstSearchAt: undefined,
      searchAnswered: false,
      sid: 0,
      writable: false,
      served: false,
    };
    client.channels.push(ch);
    this.scheduleSearch(client, ch.nextSearchAt);
    return ch;
  }

  /** Makes sure a search round runs at `at` (or earlier); without `at`, at the earliest channel due. */
  private scheduleSearch(client: Client, at?: number): void {
    let next = at ?? Infinity;
    if (at === undefined) for (const ch of client.channels) if (ch.state === 'searching' && ch.nextSearchAt < next) next = ch.nextSearchAt;
    if (next === Infinity || next >= client.searchTickAt) return;
    client.searchTickAt = next;
    this.at(next, () => this.searchRound(client, next));
  }


  private searchRound(client: Client, tick: number): void {
    if (client.searchTickAt !== tick) return;
    client.searchTickAt = Infinity;
    const due = client.channels.filter((ch) => ch.state === 'searching' && ch.nextSearchAt <= this.now);
    let sendAt = this.now;
    for (let first = 0; first < due.length; ) {
      // VERSION with the datagram sequence number, then as many SEARCH as fit (§10)
      const seq = ++client.searchSeq;
      const messages = [new Outgoing('VersionRequest', ca.versionRequest({ version: CA_MINOR, seq }))];
      let size = messages[0]!.bytes.length;
      let last = first;
      while (last < due.length) {
        const { name, cid } = due[last]!;
        const bytes = ca.searchRequest({ name, cid, version: CA_MINOR });
        if (last > first && size + bytes.length > MAX_SEARCH_DATAGRAM) break;
        messages.push(new Outgoing('SearchRequest', bytes, undefined, undefined, { name, reply: false }));
        size += bytes.length;
        last++;
      }
      const batch = due.slice(first, last);
      for (const ch of batch) ch.firstSearchAt ??= sendAt;
      this.udp(sendAt, client.host.ip, client.udpPort, BROADCAST, DEFAULT_SERVER_PORT, messages);
      for (const server of this.servers) {
        const hosted = batch.filter((ch) => ch.pv?.ioc === server.ioc);
        if (hosted.length > 0 && server.up) this.answerSearch(server, client, seq, hosted, sendAt);
      }
      first = last;
      sendAt += DATAGRAM_SPACING;
    }
    for (const ch of due) {
      ch.tries++;
      ch.nextSearchAt = onGrid(this.now + Math.min(SEARCH_FIRST_PERIOD * 2 ** (ch.tries - 1), SEARCH_MAX_PERIOD));
    }
    this.scheduleSearch(client);
  }

  private answerSearch(server: Server, client: Client, seq: number, hosted: Channel[], sentAt: number): void {
    const injected = this.latencyOf(server);
    const generation = server.generation;
    const process = client.process;
    const cids = hosted.map((ch) => ch.cid);
    this.at(sentAt + injected, () => {
      if (!server.up || server.generation !== generation) return;
      const messages = [new Outgoing('VersionResponse', ca.versionResponse({ version: CA_MINOR, seq }))];
      for (const ch of hosted) {
        // searches are timed from the first request of the spell to the first reply (as a pairer sees them)
        const first = !ch.searchAnswered && ch.firstSearchAt !== undefined;
        const pair = first ? this.pair('search', { client, server }, ch.name, ch.firstSearchAt, injected) : undefined;
        ch.searchAnswered = true;
        const reply = ca.searchResponse({ port: server.ioc.port, cid: ch.cid, version: CA_MINOR });
        messages.push(new Outgoing('SearchResponse', reply, undefined, pair, { name: ch.name, reply: true }));
      }
      this.udp(this.now, server.ioc.ip, DEFAULT_SERVER_PORT, client.host.ip, client.udpPort, messages);
      this.at(this.now + this.clientDelay(), () => {
        if (client.process !== process) return;
        hosted.forEach((ch, i) => {
          if (ch.state === 'searching' && ch.cid === cids[i]) this.connectChannel(ch, server);
        });
      });
    });
  }

  // ---- circuits -------------------------------------------------------------

  private connectChannel(ch: Channel, server: Server): void {
    const client = ch.client;
    let circuit = client.circuits.get(server);
    if (!circuit) circuit = this.openCircuit(client, server);
    ch.state = 'connecting';
    ch.circuit = circuit;
    circuit.channels.add(ch);
    const cid = ch.cid;
    const request = new Outgoing('CreateChanRequest', ca.createChanRequest({ name: ch.name, cid, version: CA_MINOR }), (at, capturedAt) =>
      this.serveCreate(circuit, ch, cid, at, capturedAt),
    );
    this.send(circuit, 'client', request, this.now);
  }

  private openCircuit(client: Client, server: Server): Circuit {
    const isn = { client: this.random.u32(), server: this.random.u32() };
    const emit = (c: Circuit, sec: number, nsec: number, ip: Uint8Array) => this.emitTcp(c, sec, nsec, ip);
    const circuit = new Circuit(client, server, client.takeTcpPort(), isn, this.options.startTime, this.now, emit);
    circuit.session.handshake(this.now / SEC);
    circuit.busyUntil = circuit.lastEmitAt + PACKET_SPACING;
    server.circuits.add(circuit);
    client.circuits.set(server, circuit);
    // RSRV sends its VERSION on accept; libca sends VERSION, CLIENT_NAME, HOST_NAME first (§11)
    this.send(circuit, 'server', new Outgoing('VersionResponse', ca.versionResponse({ version: CA_MINOR })), circuit.busyUntil);
    const c = client.host;
    this.send(circuit, 'client', new Outgoing('VersionRequest', ca.versionRequest({ version: CA_MINOR, priority: 0 })), this.now);
    this.send(circuit, 'client', new Outgoing('ClientNameRequest', ca.clientNameRequest({ name: c.userName })), this.now);
    this.send(circuit, 'client', new Outgoing('HostNameRequest', ca.hostNameRequest({ name: c.hostName })), this.now);
    this.at(this.now + ECHO_IDLE, () => this.idleCheck(circuit));
    return circuit;
  }

  /** Queues a message; messages queued within COALESCE of the first go out in one send. */
  private send(circuit: Circuit, side: TcpSide, message: Outgoing, at: number): void {
    if (!circuit.open) return;
    circuit.outbox[side].push(message);
    if (circuit.flushPending[side]) return;
    circuit.flushPending[side] = true;
    this.at(at + COALESCE, () => this.flush(circuit, side));
  }

  private flush(circuit: Circuit, side: TcpSide): void {
    circuit.flushPending[side] = false;
    const messages = circuit.outbox[side].splice(0);
    if (!circuit.open || messages.length === 0) return;
    const t = Math.max(this.now, circuit.busyUntil);
    const data = messages.length === 1 ? messages[0]!.bytes : Buffer.concat(messages.map((m) => m.bytes));
    const stream = circuit.streams[side];
    const offset = stream.queue(
      messages,
      messages.map((m) => m.bytes.length),
    );
    const plan = this.faultPlan(stream, offset, data.length);
    circuit.session.sendSegments(side, t / SEC, data, plan, { mss: this.options.mss });
    circuit.busyUntil = circuit.lastEmitAt + PACKET_SPACING;
    if (side === 'server') circuit.lastServerDataAt = t;
    for (const m of messages) m.onArrival?.(m.completedAt ?? circuit.lastEmitAt, m.completedAt);
  }

  /** At most one fault per send, none while an earlier capture gap is still to show. */
  private faultPlan(stream: StreamTruth, offset: number, length: number): SegmentFault[] {
    if (stream.gapPending) return [];
    const o = this.options;
    const r = this.faultRandom;
    const segments = Math.ceil(length / o.mss);
    if (r.chance(o.loss)) {
      const last = segments - 1;
      stream.miss(offset + last * o.mss, offset + length);
      return [{ kind: 'drop', segment: last }];
    }
    if (segments >= 2 && r.chance(o.reorder)) return [{ kind: 'reorder', segment: r.int(0, segments - 2) }];
    if (r.chance(o.retransmit)) return [{ kind: 'retransmit', segment: r.int(0, segments - 1) }];
    return [];
  }

  private emitTcp(circuit: Circuit, sec: number, nsec: number, ip: Uint8Array): void {
    const at = (sec - this.options.startTime) * SEC + nsec;
    circuit.lastEmitAt = at;
    // 20-byte IPv4 and TCP headers (frames.ts): ports at 20/22, seq at 24, flags at 33
    const fromClient = ((ip[20]! << 8) | ip[21]!) === circuit.clientPort;
    const flags = ip[33]!;
    const dataLength = ip.length - 40;
    let effects: TruthEffect[] | undefined;
    if (dataLength > 0) {
      effects = [];
      const seq = ((ip[24]! << 24) | (ip[25]! << 16) | (ip[26]! << 8) | ip[27]!) >>> 0;
      circuit.streams[fromClient ? 'client' : 'server'].data(at, seq, dataLength, effects);
    } else if (flags === TCP.SYN) {
      effects = [{ kind: 'circuit', ioc: circuit.server.ioc.name, client: circuit.client.host.name }];
    } else if (!fromClient && circuit.closedBy === 'server' && flags & (TCP.FIN | TCP.RST)) {
      effects = [{ kind: 'server-close', ioc: circuit.server.ioc.name }];
    }
    this.emit(at, ip, effects);
  }

  private closeCircuit(circuit: Circuit, by: TcpSide, at: number, reset: boolean): void {
    if (!circuit.open) return;
    circuit.open = false;
    circuit.closedBy = by;
    const t = Math.max(at, circuit.busyUntil);
    if (reset) circuit.session.reset(by, t / SEC);
    else circuit.session.close(by, t / SEC);
    const { client, server } = circuit;
    server.circuits.delete(circuit);
    if (client.circuits.get(server) === circuit) client.circuits.delete(server);
    for (const ch of circuit.channels) {
      if (ch.sub) server.subscribers.get(ch.pv!)?.delete(ch.sub);
      ch.sub = undefined;
      ch.circuit = undefined;
      if (by === 'client') continue;
      // the server went away: libca searches again after its disconnect governor; caget gives up
      if (client.host.kind === 'caget') ch.state = 'done';
      else this.searchAgain(ch, this.now + DISCONNECT_GOVERNOR);
    }
    circuit.channels.clear();
    if (by === 'server') this.checkCagetDone(client);
    this.endCagetRunIfIdle(client);
  }

  /** A caget process exits once it has cleared its channels and closed its circuits. */
  private endCagetRunIfIdle(client: Client): void {
    if (client.run?.clearing && client.circuits.size === 0) client.run = undefined;
  }

  private searchAgain(ch: Channel, at: number): void {
    ch.state = 'searching';
    ch.tries = 0;
    ch.nextSearchAt = onGrid(at);
    ch.firstSearchAt = undefined;
    ch.searchAnswered = false;
    ch.circuit?.channels.delete(ch);
    ch.circuit = undefined;
    ch.sub = undefined;
    this.scheduleSearch(ch.client, ch.nextSearchAt);
  }

  private idleCheck(circuit: Circuit): void {
    if (!circuit.open) return;
    const quietUntil = circuit.lastServerDataAt + ECHO_IDLE;
    if (this.now >= quietUntil) {
      this.echo(circuit, this.now);
      this.at(this.now + ECHO_IDLE, () => this.idleCheck(circuit));
    } else {
      this.at(quietUntil, () => this.idleCheck(circuit));
    }
  }

  private echo(circuit: Circuit, at: number): void {
    const request = new Outgoing('EchoRequest', ca.echoRequest(), (arrived, capturedAt) => {
      const injected = this.latencyOf(circuit.server);
      this.at(arrived + injected, () =>
        this.send(circuit, 'server', new Outgoing('EchoResponse', ca.echoResponse(), undefined, this.pair('echo', circuit, undefined, capturedAt, injected)), this.now),
      );
    });
    this.send(circuit, 'client', request, at);
  }

  /** The server answers after its drawn latency, if the circuit is still there. */
  private reply(circuit: Circuit, arrived: number, respond: (injected: number) => void): void {
    const injected = this.latencyOf(circuit.server);
    this.at(arrived + injected, () => {
      if (circuit.open) respond(injected);
    });
  }

  // ---- channel requests -----------------------------------------------------

  private serveCreate(circuit: Circuit, ch: Channel, cid: number, arrived: number, capturedAt: number | undefined): void {
    this.reply(circuit, arrived, (injected) => {
      const pv = ch.pv;
      const pair = this.pair('create', circuit, ch.name, capturedAt, injected);
      const current = () => ch.cid === cid && ch.circuit === circuit && ch.state === 'connecting';
      if (!pv || pv.createFails) {
        this.send(circuit, 'server', new Outgoing('CreateChFailResponse', ca.createChFailResponse({ cid }), (at) => current() && this.createFailed(ch, at), pair), this.now);
        return;
      }
      const sid = circuit.server.nextSid++;
      const rights = pv.kind.writable ? 3 : 1;
      this.send(circuit, 'server', new Outgoing('AccessRightsResponse', ca.accessRightsResponse({ cid, access_rights: rights })), this.now);
      const response = ca.createChanResponse({ data_type: pv.kind.nativeType, data_count: pv.count, cid, sid });
      this.send(circuit, 'server', new Outgoing('CreateChanResponse', response, (at) => current() && this.connected(ch, sid, rights, at), pair), this.now);
    });
  }

  private createFailed(ch: Channel, at: number): void {
    // libca treats CREATE_CH_FAIL like a disconnect: the channel searches again (§4.1)
    if (ch.client.host.kind === 'caget') {
      ch.state = 'done';
      ch.circuit?.channels.delete(ch);
      this.checkCagetDone(ch.client);
    } else {
      this.searchAgain(ch, at + DISCONNECT_GOVERNOR);
    }
  }

  private connected(ch: Channel, sid: number, rights: number, at: number): void {
    ch.state = 'connected';
    ch.sid = sid;
    ch.writable = (rights & 2) !== 0;
    const t = at + this.clientDelay();
    const pv = ch.pv!;
    if (ch.client.host.kind === 'caget') {
      if (ch.client.run?.put && ch.writable) this.write(ch, t);
      this.read(ch, dbrTimeType(pv), pv.count, t);
      return;
    }
    // a display fetches limits and units once, then subscribes
    if (this.random.chance(0.4)) this.read(ch, dbrCtrlType(pv), pv.count, t);
    if (this.random.chance(SUBSCRIBE)) this.subscribe(ch, t);
  }

  private read(ch: Channel, dataType: number, count: number, at: number): void {
    const circuit = ch.circuit!;
    const ioid = ch.client.nextIoid++;
    const request = new Outgoing('ReadNotifyRequest', ca.readNotifyRequest({ data_type: dataType, data_count: count, sid: ch.sid, ioid }), (arrived, capturedAt) =>
      this.reply(circuit, arrived, (injected) => {
        const payload = pvPayload(ch.pv!, dataType, this.options.startTime, this.now);
        const response = ca.readNotifyResponse({ data_type: dataType, data_count: ch.pv!.count, status: ECA_NORMAL, ioid, payload });
        const done = (t: number) => this.served(ch, t);
        this.send(circuit, 'server', new Outgoing('ReadNotifyResponse', response, done, this.pair('read', circuit, ch.name, capturedAt, injected)), this.now);
      }),
    );
    this.send(circuit, 'client', request, at);
  }

  private write(ch: Channel, at: number): void {
    const circuit = ch.circuit!;
    const pv = ch.pv!;
    const ioid = ch.client.nextIoid++;
    const fields = { data_type: pv.kind.nativeType, data_count: 1 };
    const request = new Outgoing('WriteNotifyRequest', ca.writeNotifyRequest({ ...fields, sid: ch.sid, ioid, payload: putPayload(pv, ioid) }), (arrived, capturedAt) =>
      this.reply(circuit, arrived, (injected) => {
        const status = pv.putFails ? ECA_PUTFAIL : ECA_NORMAL;
        const pair = this.pair('write', circuit, ch.name, capturedAt, injected);
        this.send(circuit, 'server', new Outgoing('WriteNotifyResponse', ca.writeNotifyResponse({ ...fields, status, ioid }), undefined, pair), this.now);
      }),
    );
    this.send(circuit, 'client', request, at);
  }

  private subscribe(ch: Channel, at: number): void {
    const circuit = ch.circuit!;
    const pv = ch.pv!;
    const sub: Subscription = {
      circuit,
      subid: ch.client.nextIoid++,
      dataType: dbrTimeType(pv),
      // libca >= 4.13 asks for "current length" (count 0) by default (§4.1)
      count: this.random.chance(0.5) ? 0 : pv.count,
    };
    ch.sub = sub;
    const mask = ch.client.host.index % 2 === 0 ? DBE_VALUE_ALARM : DBE_VALUE_LOG_ALARM;
    const fields = { data_type: sub.dataType, data_count: sub.count, sid: ch.sid, subscriptionid: sub.subid };
    const request = new Outgoing('EventAddRequest', ca.eventAddRequest({ ...fields, mask }), (arrived, capturedAt) =>
      this.reply(circuit, arrived, (injected) => {
        if (ch.sub !== sub) return;
        sub.firstPair = this.pair('subscribe', circuit, ch.name, capturedAt, injected);
        const server = circuit.server;
        let subs = server.subscribers.get(pv);
        if (!subs) server.subscribers.set(pv, (subs = new Set()));
        subs.add(sub);
        // the first update goes out at once; later ones when the record processes
        this.postUpdates(pv, [sub]);
        if (!server.processing.has(pv)) {
          server.processing.add(pv);
          const generation = server.generation;
          this.at(this.nextProcessing(pv), () => this.processRecord(server, pv, generation));
        }
      }),
    );
    this.send(circuit, 'client', request, at);
  }

  /** When the record processes next: the IOC's next scan tick for its period, or (I/O Intr) a jittered period. */
  private nextProcessing(pv: Pv): number {
    if (pv.scanned) {
      const phase = pv.ioc.scanPhaseNs % pv.periodNs;
      return phase + (Math.floor((this.now - phase) / pv.periodNs) + 1) * pv.periodNs;
    }
    return this.now + Math.max(US, pv.periodNs * (0.95 + 0.1 * this.random.next()));
  }

  /** The record processes: every subscription on it gets an update. */
  private processRecord(server: Server, pv: Pv, generation: number): void {
    if (generation !== server.generation) return;
    const subs = server.subscribers.get(pv);
    if (!subs || subs.size === 0) {
      server.processing.delete(pv);
      return;
    }
    pv.processed++;
    this.postUpdates(pv, subs);
    this.at(this.nextProcessing(pv), () => this.processRecord(server, pv, generation));
  }

  private postUpdates(pv: Pv, subs: Iterable<Subscription>): void {
    const payloads = new Map<number, Buffer>();
    for (const sub of subs) {
      let payload = payloads.get(sub.dataType);
      if (!payload) payloads.set(sub.dataType, (payload = pvPayload(pv, sub.dataType, this.options.startTime, this.now)));
      const update = ca.eventAddResponse({ data_type: sub.dataType, data_count: pv.count, status: ECA_NORMAL, subscriptionid: sub.subid, payload });
      this.send(sub.circuit, 'server', new Outgoing('EventAddResponse', update, undefined, sub.firstPair), this.now);
      sub.firstPair = undefined;
    }
  }

  private cancel(ch: Channel, at: number): void {
    const sub = ch.sub!;
    const circuit = sub.circuit;
    const fields = { data_type: sub.dataType, data_count: sub.count, sid: ch.sid, subscriptionid: sub.subid };
    const request = new Outgoing('EventCancelRequest', ca.eventCancelRequest(fields), (arrived, capturedAt) =>
      this.reply(circuit, arrived, (injected) => {
        circuit.server.subscribers.get(ch.pv!)?.delete(sub);
        const pair = this.pair('cancel', circuit, ch.name, capturedAt, injected);
        const confirmed = (t: number) => {
          if (ch.sub !== sub) return;
          ch.sub = undefined;
          // a display closed: the channel goes too, or the subscription comes back later
          if (this.random.chance(0.5)) this.clear(ch, t + this.clientDelay());
          else this.at(t + this.random.exponential(5 * SEC), () => ch.state === 'connected' && !ch.sub && ch.circuit && this.subscribe(ch, this.now));
        };
        this.send(circuit, 'server', new Outgoing('EventCancelResponse', ca.eventCancelResponse(fields), confirmed, pair), this.now);
      }),
    );
    this.send(circuit, 'client', request, at);
  }

  private clear(ch: Channel, at: number): void {
    const circuit = ch.circuit!;
    const ids = { sid: ch.sid, cid: ch.cid };
    ch.state = 'idle';
    circuit.pendingClears++;
    const request = new Outgoing('ClearChannelRequest', ca.clearChannelRequest(ids), (arrived, capturedAt) =>
      this.reply(circuit, arrived, (injected) => {
        if (ch.sub) circuit.server.subscribers.get(ch.pv!)?.delete(ch.sub);
        const pair = this.pair('clear', circuit, ch.name, capturedAt, injected);
        this.send(circuit, 'server', new Outgoing('ClearChannelResponse', ca.clearChannelResponse(ids), (t) => this.cleared(ch, circuit, t), pair), this.now);
      }),
    );
    this.send(circuit, 'client', request, at);
  }

  private cleared(ch: Channel, circuit: Circuit, at: number): void {
    circuit.channels.delete(ch);
    circuit.pendingClears--;
    ch.circuit = undefined;
    ch.sub = undefined;
    const client = ch.client;
    if (client.host.kind === 'caget') {
      if (circuit.pendingClears === 0) this.closeCircuit(circuit, 'client', at + this.clientDelay(), false);
      return;
    }
    // the display reopens later: a new channel (new CID) searches for the name again
    client.channels.splice(client.channels.indexOf(ch), 1);
    this.at(at + this.random.exponential(10 * SEC), () => this.want(client, ch.name, this.now));
  }

  // ---- client behaviour -----------------------------------------------------

  /** A long-running client (display, archiver) now and then reads, writes, or drops a subscription. */
  private monitorActivity(client: Client): void {
    const ch = client.channels.length > 0 ? this.random.pick(client.channels) : undefined;
    const r = this.random.next();
    const t = this.now;
    if (ch && ch.state === 'connected' && ch.circuit && ch.pv) {
      if (r < 0.5) this.read(ch, dbrTimeType(ch.pv), ch.pv.count, t);
      else if (r < 0.75 && ch.writable) this.write(ch, t);
      else if (r >= 0.75 && r < 0.9) {
        if (ch.sub) this.cancel(ch, t);
        else this.subscribe(ch, t);
      }
    }
    this.at(this.now + this.random.exponential(MONITOR_CLIENT_MEAN_ACTIVITY), () => this.monitorActivity(client));
  }

  private served(ch: Channel, at: number): void {
    if (ch.client.host.kind !== 'caget') return;
    ch.served = true;
    this.checkCagetDone(ch.client, at);
  }

  /** A caget/caput process: search a few names (sometimes one that does not exist), read them, clear, exit. */
  private cagetRun(client: Client): void {
    this.at(this.now + Math.max(500 * MS, this.random.exponential(CAGET_MEAN_INTERVAL)), () => this.cagetRun(client));
    if (client.run) return;
    client.process++;
    client.udpPort = ephemeralPort(this.random);
    client.searchSeq = 0;
    client.nextCid = 1;
    client.nextIoid = 1;
    client.channels = [];
    client.searchTickAt = Infinity;
    client.run = { put: this.random.chance(0.3), clearing: false };
    const count = this.random.int(1, 4);
    for (let i = 0; i < count; i++) this.want(client, this.random.pick(this.pvs).name, this.now);
    if (this.unfound.length > 0 && this.random.chance(0.25)) this.want(client, this.random.pick(this.unfound), this.now);
    const process = client.process;
    this.at(this.now + CAGET_TIMEOUT, () => {
      if (client.process !== process || !client.run) return;
      for (const ch of client.channels) if (ch.state === 'searching') ch.state = 'done';
      this.checkCagetDone(client, this.now);
    });
  }

  private checkCagetDone(client: Client, at = this.now): void {
    const run = client.run;
    if (!run || run.clearing) return;
    if (!client.channels.every((ch) => ch.state === 'done' || ch.served)) return;
    run.clearing = true;
    for (const circuit of [...client.circuits.values()]) {
      const open = [...circuit.channels].filter((ch) => ch.state === 'connected');
      if (open.length === 0) this.closeCircuit(circuit, 'client', at + this.clientDelay(), false);
      for (const ch of open) this.clear(ch, at + this.clientDelay());
    }
    this.endCagetRunIfIdle(client);
  }

  /** A gateway drops a channel whose upstream went away (SERVER_DISCONN, PCAS only). */
  private gatewayDisconnect(server: Server): void {
    this.at(this.now + this.random.exponential(GATEWAY_MEAN_DISCONNECT), () => this.gatewayDisconnect(server));
    if (!server.up || server.circuits.size === 0) return;
    const circuit = this.random.pick([...server.circuits]);
    const connected = [...circuit.channels].filter((ch) => ch.state === 'connected');
    if (connected.length === 0) return;
    const ch = this.random.pick(connected);
    if (ch.sub) server.subscribers.get(ch.pv!)?.delete(ch.sub);
    const cid = ch.cid;
    const notice = new Outgoing('ServerDisconnResponse', ca.serverDisconnResponse({ cid }), (at) => {
      if (ch.cid !== cid || ch.circuit !== circuit) return;
      if (ch.client.host.kind === 'caget') {
        ch.state = 'done';
        circuit.channels.delete(ch);
        this.checkCagetDone(ch.client, at);
      } else {
        this.searchAgain(ch, at + this.clientDelay());
      }
    });
    this.send(circuit, 'server', notice, this.now);
  }
}
