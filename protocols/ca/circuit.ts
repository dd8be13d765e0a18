// Per-circuit CA state: which channel (PV) each id on a virtual circuit refers to
// (ca-protocol-notes §3: every id is scoped to one TCP circuit; libca reuses small
// CIDs in every process, so nothing may be keyed on an id alone).

import { CMD } from './constants.js';
import type {
  AccessRightsResponse,
  CaMessage,
  ClearChannelRequest,
  CreateChanRequest,
  CreateChanResponse,
  EventAddRequest,
  SearchRequest,
  SearchResponse,
} from './messages.js';

export interface Channel {
  cid: number;
  name: string;
  sid?: number;
  /** native DBR type and count from the CREATE_CHAN reply */
  nativeType?: number;
  nativeCount?: number;
  accessRights?: number;
}

export interface Subscription {
  subscriptionid: number;
  channel?: Channel;
  dataType: number;
  dataCount: number;
  mask: number;
  cancelled: boolean;
}

/** Whether CircuitState.observe reads the message itself (names, versions, access rights, a new subscription) rather than only its header words. */
export function observeNeedsMessage(command: number, fromClient: boolean): boolean {
  switch (command) {
    case CMD.VERSION:
    case CMD.CLIENT_NAME:
    case CMD.HOST_NAME:
    case CMD.CREATE_CHAN:
    case CMD.ACCESS_RIGHTS:
    case CMD.CLEAR_CHANNEL:
      return true;
    case CMD.EVENT_ADD:
      return fromClient;
    default:
      return false;
  }
}

/**
 * A monitor update: the server's EVENT_ADD with data (successful or failed). An
 * empty one confirms a cancel. CircuitState.observe changes nothing for an
 * update; it only looks up the PV the update concerns.
 */
export function isMonitorUpdate(command: number, fromClient: boolean, payloadSize: number): boolean {
  return command === CMD.EVENT_ADD && !fromClient && payloadSize > 0;
}

/** Bounded map: the oldest entry goes when full (Map keeps insertion order). */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) {
    const oldest = map.keys().next().value as K;
    map.delete(oldest);
  }
  map.set(key, value);
}

export interface CircuitLimits {
  /** channels, subscriptions and outstanding ioids kept per circuit */
  maxIdsPerCircuit: number;
}

export const DEFAULT_CIRCUIT_LIMITS: CircuitLimits = { maxIdsPerCircuit: 100_000 };

/** The id tables of one circuit (four Maps, about 800 bytes even when empty). */
class IdTables {
  readonly channels = new Map<number, Channel>(); // by CID
  readonly bySid = new Map<number, Channel>();
  readonly subscriptions = new Map<number, Subscription>();
  /** outstanding READ/READ_NOTIFY/WRITE_NOTIFY ids */
  readonly ioids = new Map<number, Channel | undefined>();
}

/** What a circuit reads before it has tables of its own: empty, and never written (see CircuitState.tables). */
const NO_IDS = new IdTables();

export class CircuitState {
  // Set as the messages arrive; undefined from the start so every state has one shape.
  clientVersion?: number = undefined;
  serverVersion?: number = undefined;
  priority?: number = undefined;
  hostName?: string = undefined;
  userName?: string = undefined;
  /** NO_IDS until the first id is tracked: a circuit that never carries CA messages costs no tables */
  private ids: IdTables = NO_IDS;
  /** ids dropped because a table was full */
  evicted = 0;

  constructor(private readonly limits: CircuitLimits = DEFAULT_CIRCUIT_LIMITS) {}

  /** channels by CID */
  get channels(): ReadonlyMap<number, Channel> {
    return this.ids.channels;
  }
  get bySid(): ReadonlyMap<number, Channel> {
    return this.ids.bySid;
  }
  get subscriptions(): ReadonlyMap<number, Subscription> {
    return this.ids.subscriptions;
  }

  /** The circuit's own tables, to write to: made on the first write. */
  private tables(): IdTables {
    if (this.ids === NO_IDS) this.ids = new IdTables();
    return this.ids;
  }

  /**
   * Updates the state from one message and returns the PV name it concerns, if
   * any. `fromClient` is the sender's role. The header words are passed by a
   * caller that has them (the dissector reads them from the frame): read back
   * from the message they are a polymorphic property access per message.
   * `m` may be undefined when observeNeedsMessage(command, fromClient) is false:
   * then the header words carry all the state needs.
   */
  observe(
    m: CaMessage | undefined,
    fromClient = m!.direction === 'request',
    command = m!.command,
    p1 = m!.parameter1,
    p2 = m!.parameter2,
    payloadSize = m!.payloadSize,
  ): string | undefined {
    // Monitor updates are most of the traffic: their lookup before the switch.
    if (command === CMD.EVENT_ADD && !fromClient) {
      const sub = this.subscriptions.get(p2);
      if (sub === undefined) return undefined;
      if (payloadSize === 0) this.ids.subscriptions.delete(p2); // cancel confirmed
      return sub.channel?.name;
    }
    const max = this.limits.maxIdsPerCircuit;
    const req = fromClient;
    switch (command) {
      case CMD.VERSION:
        if (req) {
          this.clientVersion = m!.dataCountField;
          this.priority = m!.dataTypeField;
        } else this.serverVersion = m!.dataCountField;
        return undefined;
      case CMD.CLIENT_NAME:
        this.userName = (m as CreateChanRequest).name;
        return undefined;
      case CMD.HOST_NAME:
        this.hostName = (m as CreateChanRequest).name;
        return undefined;
      case CMD.CREATE_CHAN: {
        if (req) {
          const r = m as CreateChanRequest;
          const ch: Channel = { cid: r.cid, name: r.name };
          this.track(this.tables().channels, r.cid, ch, max);
          return ch.name;
        }
        const r = m as CreateChanResponse;
        const ch = this.channels.get(r.cid);
        if (!ch) return undefined;
        ch.sid = r.sid;
        ch.nativeType = r.data_type;
        ch.nativeCount = r.data_count;
        this.track(this.tables().bySid, r.sid, ch, max);
        return ch.name;
      }
      case CMD.ACCESS_RIGHTS: {
        const ch = this.channels.get(p1);
        if (ch) ch.accessRights = (m as AccessRightsResponse).access_rights;
        return ch?.name;
      }
      case CMD.CREATE_CH_FAIL:
      case CMD.SERVER_DISCONN: {
        const ch = this.channels.get(p1);
        if (ch) this.forget(ch);
        return ch?.name;
      }
      case CMD.CLEAR_CHANNEL: {
        const ch = this.channels.get((m as ClearChannelRequest).cid) ?? this.bySid.get(p1);
        // The server echoes the request: forget the channel on the echo (or on the request if none comes).
        if (ch && !req) this.forget(ch);
        return ch?.name;
      }
      case CMD.READ:
      case CMD.READ_NOTIFY:
      case CMD.WRITE_NOTIFY:
        if (req) {
          const ch = this.bySid.get(p1);
          this.track(this.tables().ioids, p2, ch, max);
          return ch?.name;
        } else {
          const ch = this.ids.ioids.get(p2);
          this.ids.ioids.delete(p2);
          // libca also refreshes a subscription with READ_NOTIFY using the subscription id as ioid.
          return ch?.name ?? this.subscriptions.get(p2)?.channel?.name;
        }
      case CMD.WRITE:
        return (this.bySid.get(p1) ?? this.channels.get(p2))?.name;
      case CMD.EVENT_ADD: {
        if (req) {
          const r = m as EventAddRequest;
          const sub: Subscription = {
            subscriptionid: r.subscriptionid,
            channel: this.bySid.get(r.sid),
            dataType: r.data_type,
            dataCount: r.data_count,
            mask: r.mask,
            cancelled: false,
          };
          this.track(this.tables().subscriptions, r.subscriptionid, sub, max);
          return sub.channel?.name;
        }
        return undefined; // the server's EVENT_ADD messages are handled before the switch
      }
      case CMD.EVENT_CANCEL: {
        const sub = this.subscriptions.get(p2);
        if (sub) sub.cancelled = true;
        return (sub?.channel ?? this.bySid.get(p1))?.name;
      }
      case CMD.ERROR: {
        const ch = this.channels.get(p1);
        return ch?.name;
      }
      default:
        return undefined;
    }
  }

  /** The channel a subscription id names, while the subscription lives. */
  subscription(id: number): Subscription | undefined {
    return this.subscriptions.get(id);
  }

  private track<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
    if (map.size >= max && !map.has(key)) this.evicted++;
    boundedSet(map, key, value, max);
  }

  private forget(ch: Channel): void {
    const ids = this.ids;
    ids.channels.delete(ch.cid);
    if (ch.sid !== undefined && ids.bySid.get(ch.sid) === ch) ids.bySid.delete(ch.sid);
  }
}

/**
 * Search ids of UDP clients: (client endpoint, id) -> name, so a SEARCH reply
 * (which carries only the id) knows its PV. Bounded in total.
 */
export class SearchNames {
  private readonly byClient = new Map<number, Map<number, string>>();
  private entries = 0;
  evicted = 0;

  constructor(private readonly maxEntries = 1_000_000) {}

  /** `client` is a numeric endpoint key (ip * 65536 + port). */
  request(client: number, m: SearchRequest): string {
    const name = m.name;
    let ids = this.byClient.get(client);
    if (!ids) {
      if (this.byClient.size >= this.maxEntries) this.dropOldestClient();
      ids = new Map();
      this.byClient.set(client, ids);
    }
    if (!ids.has(m.cid)) {
      if (this.entries >= this.maxEntries) {
        this.dropOldestClient();
        // The oldest may have been this client: its new id goes in the table, not in the dropped map.
        if (!this.byClient.has(client)) this.byClient.set(client, (ids = new Map()));
      }
      this.entries++;
    }
    ids.set(m.cid, name);
    return name;
  }

  reply(client: number, m: SearchResponse | { cid: number }): string | undefined {
    return this.byClient.get(client)?.get(m.cid);
  }

  private dropOldestClient(): void {
    const first = this.byClient.entries().next().value;
    if (!first) return;
    this.byClient.delete(first[0]);
    this.entries -= first[1].size;
    this.evicted += first[1].size;
  }
}
