// The simulated control system: IOC hosts and ports, the PVs each IOC serves
// (record kinds with their native DBR type, element count and update rate),
// the clients, and the values a PV takes over time as DBR payloads.

import { encodeDbr, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { EPICS_EPOCH_UNIX } from '../../protocols/ca/time.js';
import { DEFAULT_SERVER_PORT } from '../../protocols/ca/constants.js';
import { ipToNumber } from './frames.js';
import type { Distribution, Random } from './random.js';

/** DBR value type codes (ca-protocol-notes §6.2); TIME_x = x + 14, CTRL_x = x + 28. */
const DBR_STRING = 0;
const DBR_ENUM = 3;
const DBR_CHAR = 4;
const DBR_LONG = 5;
const DBR_DOUBLE = 6;
const TIME_OFFSET = 14;
const CTRL_OFFSET = 28;

/** Alarm severities and conditions used in values (ca-protocol-notes §6.4). */
const MINOR = 1;
const MAJOR = 2;
const HIGH = 4;
const HIHI = 3;

interface RecordKind {
  /** PV name part, e.g. 'ai' in 'IOC1:ai3' */
  name: string;
  nativeType: number;
  /** element counts to choose from (1 = scalar) */
  counts: readonly number[];
  writable: boolean;
  /** share of the PVs of this kind */
  weight: number;
  /** updates per second relative to other kinds */
  rateWeight: number;
}

const RECORD_KINDS: readonly RecordKind[] = [
  { name: 'ai', nativeType: DBR_DOUBLE, counts: [1], writable: false, weight: 30, rateWeight: 1 },
  { name: 'ao', nativeType: DBR_DOUBLE, counts: [1], writable: true, weight: 10, rateWeight: 0.3 },
  { name: 'wf', nativeType: DBR_DOUBLE, counts: [2048, 4096, 10000], writable: false, weight: 6, rateWeight: 0.01 },
  { name: 'bi', nativeType: DBR_ENUM, counts: [1], writable: false, weight: 8, rateWeight: 0.2 },
  { name: 'mbbo', nativeType: DBR_ENUM, counts: [1], writable: true, weight: 6, rateWeight: 0.1 },
  { name: 'longin', nativeType: DBR_LONG, counts: [1], writable: false, weight: 10, rateWeight: 0.5 },
  { name: 'stringout', nativeType: DBR_STRING, counts: [1], writable: true, weight: 6, rateWeight: 0.05 },
  { name: 'msg', nativeType: DBR_CHAR, counts: [256], writable: false, weight: 6, rateWeight: 0.05 },
];

const ENUM_STRINGS = ['Off', 'On', 'Fault', 'Idle'];

/** menuScan periods (seconds), plus the fast ones sites add (the corpus IOC has .01 second) */
const SCAN_PERIODS = [10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
const SCANNED_SHARE = 0.7;

function nearestScanPeriod(periodSec: number): number {
  let best = SCAN_PERIODS[0]!;
  for (const p of SCAN_PERIODS) if (Math.abs(Math.log(p / periodSec)) < Math.abs(Math.log(best / periodSec))) best = p;
  return best;
}

export interface Ioc {
  index: number;
  /** 'ioc1', 'ioc2', … (latency options name IOCs this way) */
  name: string;
  /** PV name prefix, e.g. 'IOC1' */
  prefix: string;
  ip: number;
  /** current TCP port: 5064, or an ephemeral one when another IOC on the host holds 5064 */
  port: number;
  ephemeral: boolean;
  beaconPort: number;
  latency: Distribution;
  /** the IOC's scan threads tick at this offset (ns) from multiples of their period */
  scanPhaseNs: number;
  /** a CA gateway (PCAS): refuses some channels (CreateChFail) and drops others (ServerDisconn) */
  gateway: boolean;
  pvs: Pv[];
}

export interface Pv {
  name: string;
  ioc: Ioc;
  kind: RecordKind;
  count: number;
  /** the IOC answers the search but refuses the channel (a gateway whose upstream is gone) */
  createFails: boolean;
  /** puts fail (ECA_PUTFAIL): the device behind the record rejects them */
  putFails: boolean;
  /** nanoseconds between record processings */
  periodNs: number;
  /**
   * periodic scan: processes on the IOC's scan ticks (every PV of the same
   * period at once, so updates leave in bursts); otherwise I/O Intr, jittered
   */
  scanned: boolean;
  /** times processed, drives the value */
  processed: number;
}

export type ClientKind = 'monitor' | 'caget';

export interface ClientHost {
  index: number;
  name: string;
  ip: number;
  kind: ClientKind;
  hostName: string;
  userName: string;
}

/** Address the IOC hosts of the scenario live at: two IOCs per host, so every second one has an ephemeral TCP port. */
export function makeIocs(count: number, latencyOf: (name: string) => Distribution, random: Random): Ioc[] {
  return Array.from({ length: count }, (_, index) => {
    const ephemeral = index % 2 === 1;
    const name = `ioc${index + 1}`;
    return {
      index,
      name,
      prefix: `IOC${index + 1}`,
      ip: ipToNumber(`10.0.1.${(index >> 1) + 1}`),
      port: ephemeral ? ephemeralPort(random) : DEFAULT_SERVER_PORT,
      ephemeral,
      beaconPort: ephemeralPort(random),
      latency: latencyOf(name),
      scanPhaseNs: random.int(0, 999_999) * 1000,
      gateway: index % 3 === 2,
      pvs: [],
    };
  });
}

export function ephemeralPort(random: Random): number {
  return random.int(32768, 60999);
}

/**
 * `count` PVs spread round-robin over the IOCs, kinds drawn by weight; update
 * periods are set so that all subscriptions together post about `updatesPerSec`
 * updates when each PV has `subscribersPerPv` subscribers.
 */
export function makePvs(iocs: Ioc[], count: number, updatesPerSec: number, subscribersPerPv: number, random: Random): Pv[] {
  const totalWeight = RECORD_KINDS.reduce((sum, k) => sum + k.weight, 0);
  const perKind = new Map<string, number>();
  const pvs: Pv[] = [];
  for (let i = 0; i < count; i++) {
    const ioc = iocs[i % iocs.length]!;
    let pick = random.next() * totalWeight;
    const kind = RECORD_KINDS.find((k) => (pick -= k.weight) < 0) ?? RECORD_KINDS[0]!;
    const key = `${ioc.prefix}:${kind.name}`;
    const n = (perKind.get(key) ?? 0) + 1;
    perKind.set(key, n);
    const pv: Pv = {
      name: `${key}${n}`,
      ioc,
      kind,
      count: random.pick(kind.counts),
      createFails: ioc.gateway && random.chance(0.1),
      putFails: kind.writable && random.chance(0.25),
      periodNs: 0,
      scanned: random.chance(SCANNED_SHARE),
      processed: random.int(0, 9999),
    };
    ioc.pvs.push(pv);
    pvs.push(pv);
  }
  // a spread of rates within a kind: lognormal weights around the kind's weight
  const weights = pvs.map((pv) => pv.kind.rateWeight * Math.exp(0.8 * random.normal()));
  const weightSum = weights.reduce((a, b) => a + b, 0) * subscribersPerPv;
  pvs.forEach((pv, i) => {
    const periodSec = weightSum / (updatesPerSec * weights[i]!);
    pv.periodNs = Math.round((pv.scanned ? nearestScanPeriod(periodSec) : periodSec) * 1e9);
  });
  return pvs;
}

/** Names that no IOC serves: clients keep searching for them. */
export function unfoundNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `RETIRED:pv${i + 1}`);
}

export function makeClients(count: number): ClientHost[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    name: `client${index + 1}`,
    ip: ipToNumber(`10.0.2.${index + 1}`),
    // every third client runs short caget/caput processes, the others stay connected and monitor
    kind: index % 3 === 2 ? 'caget' : 'monitor',
    hostName: `opi${index + 1}`,
    userName: index % 2 === 0 ? 'operator' : 'physics',
  }));
}

export const dbrTimeType = (pv: Pv): number => pv.kind.nativeType + TIME_OFFSET;
export const dbrCtrlType = (pv: Pv): number => pv.kind.nativeType + CTRL_OFFSET;

/** The PV's value at scenario time `atNs` (Unix `startTime` at 0), encoded as `dataType` (native, TIME or CTRL). */
export function pvPayload(pv: Pv, dataType: number, startTime: number, atNs: number): Buffer {
  const n = pv.processed;
  const tsSec = startTime + Math.floor(atNs / 1e9);
  const metadata: DbrMetadata = { secPastEpoch: tsSec - EPICS_EPOCH_UNIX, nsec: atNs % 1e9 };
  let values: (number | string)[];
  switch (pv.kind.nativeType) {
    case DBR_DOUBLE:
      if (pv.count === 1) {
        const v = 10 * Math.sin(n / 50);
        values = [Math.round(v * 1e4) / 1e4];
        if (Math.abs(v) > 9) Object.assign(metadata, { status: HIHI, severity: MAJOR });
        else if (Math.abs(v) > 8) Object.assign(metadata, { status: HIGH, severity: MINOR });
      } else {
        values = waveform(pv.count, n / 10);
      }
      Object.assign(metadata, { precision: 4, units: 'mA', upperDispLimit: 10, lowerDispLimit: -10 });
      break;
    case DBR_ENUM:
      values = [(n >> 2) % ENUM_STRINGS.length];
      metadata.enumStrings = ENUM_STRINGS;
      break;
    case DBR_LONG:
      values = [n];
      break;
    case DBR_STRING:
      values = [`setpoint ${n}`];
      break;
    default: {
      const text = Buffer.from(`${pv.name} message ${n}: ${'status nominal, '.repeat(12)}`, 'latin1');
      values = Array.from({ length: pv.count }, (_, i) => text[i] ?? 0);
    }
  }
  return encodeDbr(dataType, values, metadata);
}

/** Tables of sin(i/100) and cos(i/100), per waveform length. */
const waveTables = new Map<number, { sin: Float64Array; cos: Float64Array }>();

/** sin(i/100 + phase) for i < count, from the tables (no trigonometry per element). */
function waveform(count: number, phase: number): number[] {
  let t = waveTables.get(count);
  if (!t) {
    t = { sin: new Float64Array(count), cos: new Float64Array(count) };
    for (let i = 0; i < count; i++) {
      t.sin[i] = Math.sin(i / 100);
      t.cos[i] = Math.cos(i / 100);
    }
    waveTables.set(count, t);
  }
  const c = Math.cos(phase);
  const s = Math.sin(phase);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) values[i] = t.sin[i]! * c + t.cos[i]! * s;
  return values;
}

/** What a client writes to a PV (native type, one element). */
export function putPayload(pv: Pv, n: number): Buffer {
  switch (pv.kind.nativeType) {
    case DBR_STRING:
      return encodeDbr(DBR_STRING, [`setpoint ${n}`]);
    case DBR_ENUM:
      return encodeDbr(DBR_ENUM, [n % ENUM_STRINGS.length]);
    default:
      return encodeDbr(pv.kind.nativeType, [n / 8]);
  }
}
