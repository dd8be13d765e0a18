// Every capture of the shared corpus decodes to the messages its sidecar says
// (real captures) or to at least what Wireshark's CA plugin decoded (public ones).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../protocols/ca/constants.js';
import { ecaName } from '../../protocols/ca/eca.js';
import type { CaEvent } from '../../src/dissect/event.js';
import { formatCommand } from '../../src/output/values.js';
import { HAVE_SHARED, PUBLIC, REAL, collectEvents } from '../helpers/shared.js';

/** The sidecar's "Decoded tally" category of one event (see corpus/real/*.txt). */
function tallyKey(ev: CaEvent): string {
  const name = ev.command.command === 13 ? 'RSRV_IS_UP(beacon)' : COMMAND_NAMES[ev.command.command]!;
  if (ev.transport === 'tcp') {
    if (ev.type === 'EventCancelResponse') return 'TCP EVENT_ADD(empty: cancel ack) S->C';
    return `TCP ${name} ${ev.direction === 'request' ? 'C->S' : 'S->C'}`;
  }
  if (ev.type === 'RepeaterRegisterRequest' && ev.command.headerSize === 0) return 'UDP zero-length datagram (REPEATER_REGISTER) ->repeater';
  if (ev.srcIp === ev.dstIp && ev.sport === ev.dport) return `UDP ${name} self(wakeup)`;
  if (ev.dport === 5065) return `UDP ${name} ->repeater`;
  if (ev.dport === 5064) return `UDP ${name} C->S`;
  if (ev.sport === 5064) return `UDP ${name} S->C`;
  return `UDP ${name} other-udp`;
}

interface Sidecar {
  tally: Map<string, number>;
  searchesPerName: Map<string, number>;
  statuses: Map<string, number>;
}

function readSidecar(txt: string): Sidecar {
  const tally = new Map<string, number>();
  const lines = txt.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Decoded tally'));
  for (const l of lines.slice(start)) {
    const m = /^ {4}((?:TCP|UDP) .+?)\s+(\d+)$/.exec(l);
    if (m) tally.set(m[1]!.replace(/\s+/g, ' '), Number(m[2]));
  }
  const dict = (label: string) => {
    const line = lines.find((l) => l.trim().startsWith(label));
    return line ? line.slice(line.indexOf('{')) : '{}';
  };
  const searchesPerName = new Map<string, number>();
  for (const m of dict('search requests per name:').matchAll(/'([^']+)': (\d+)/g)) searchesPerName.set(m[1]!, Number(m[2]));
  const statuses = new Map<string, number>();
  for (const m of dict('response status').matchAll(/\('(\w+)', 'ECA=(\d+)'\): (\d+)/g)) statuses.set(`${m[1]} ${ecaName(Number(m[2]))}`, Number(m[3]));
  return { tally, searchesPerName, statuses };
}

function count<T>(items: Iterable<T>, key: (t: T) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

const realCaptures = HAVE_SHARED ? readdirSync(REAL).filter((f) => /\.pcap(ng)?$/.test(f)) : [];

describe.skipIf(!HAVE_SHARED)('real captures: message counts of each sidecar', () => {
  it.each(realCaptures)('%s', async (file) => {
    const txt = readFileSync(join(REAL, file.replace(/\.pcap(ng)?$/, '.txt')), 'utf8');
    const base = readFileSync(join(REAL, `${file.split('.')[0]}.txt`), 'utf8'); // variants share the base tally
    const side = readSidecar(/Decoded tally/.test(txt) ? txt : base);
    expect(side.tally.size).toBeGreaterThan(0);
    const { events, result } = await collectEvents(join(REAL, file));
    expect(Object.fromEntries(count(events, tallyKey))).toEqual(Object.fromEntries(side.tally));
    const searched = count(events, (ev) => (ev.type === 'SearchRequest' ? ev.pv : undefined));
    expect(Object.fromEntries(searched)).toEqual(Object.fromEntries(side.searchesPerName));
    const statuses = count(events, (ev) => {
      const t = ev.type;
      if (t === 'ReadNotifyResponse' || t === 'WriteNotifyResponse' || t === 'EventAddResponse' || t === 'ErrorResponse') {
        const code = t === 'ErrorResponse' ? ev.command.parameter2 : ev.command.parameter1;
        return `${COMMAND_NAMES[ev.command.command]} ${ecaName(code)}`;
      }
      return undefined;
    });
    expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(side.statuses));
    const m = result.stats.malformed;
    expect(m['bad-header'].count + m.resync.count + m.overrun.count + m.incomplete.count).toBe(0);
  });
});

/** One line per message without the time: what must match between format variants of one capture. */
function messageLines(events: CaEvent[], withTime: boolean): string[] {
  return events.map((ev) => `${withTime ? `${ev.tsSec}.${ev.tsNsec} ` : ''}${ev.src}:${ev.sport}->${ev.dst}:${ev.dport} ${formatCommand(ev.command)}`);
}

describe.skipIf(!HAVE_SHARED)('format variants decode to the same messages', () => {
  it('caget_basic: pcap, nanosecond pcap and pcapng give identical messages and timestamps', async () => {
    const [a, b, c] = await Promise.all(
      ['caget_basic.pcap', 'caget_basic.nano.pcap', 'caget_basic.tshark.pcapng'].map((f) => collectEvents(join(REAL, f))),
    );
    const la = messageLines(a!.events, true);
    expect(la).toHaveLength(231);
    expect(messageLines(b!.events, true)).toEqual(la);
    expect(messageLines(c!.events, true)).toEqual(la);
  });

  it('multi_ioc: Ethernet and Linux cooked (tcpdump -i any) give the same messages', async () => {
    const eth = await collectEvents(join(REAL, 'multi_ioc.pcap'));
    const sll = await collectEvents(join(REAL, 'multi_ioc.any_sll.pcap'));
    expect(messageLines(sll.events, false)).toEqual(messageLines(eth.events, false));
  });
});

describe.skipIf(!HAVE_SHARED)('big_waveform: 800,040-byte replies across many segments', () => {
  it('both full replies decode whole with 100,000 values', async () => {
    const { events } = await collectEvents(join(REAL, 'big_waveform.pcap'));
    const replies = events.filter((ev) => ev.type === 'ReadNotifyResponse');
    expect(replies.map((ev) => ev.command.size)).toEqual([800040, 16 + 16 + 64, 800040]);
    const first = replies[0]!.command as unknown as { data: number[]; data_count: number };
    expect(first.data_count).toBe(100000);
    expect(first.data).toHaveLength(100000);
    expect(first.data.slice(0, 8).map((v) => Number(v.toPrecision(6)))).toEqual([0, 0.00100001, 0.00200004, 0.00300009, 0.00400015, 0.00500023, 0.00600032, 0.00700043]);
    const i = 99999;
    expect(first.data[i]).toBeCloseTo(Math.sin(i / 1000) * (1 + i / 100000), 12);
    expect(replies.every((ev) => ev.pv === 'TEST:wave')).toBe(true);
  });
});

/** Public captures: every message Wireshark's ca.lua decoded (anchors/NAME.tshark-msgs.tsv), by frame and command. */
const PUBLIC_FILES: [string, string, number[]][] = [
  ['ca-search-3.13.pcapng', 'ca-search-3.13', []],
  ['ca_all_dbr.pcapng', 'ca_all_dbr', []],
  ['ca_arrays.pcapng', 'ca_arrays', []],
  ['ca_enum.pcapng', 'ca_enum', []],
  ['ca_monitor.pcapng', 'ca_monitor', []],
  ['ca_monitor2.pcapng', 'ca_monitor2', []],
  ['cabeacon.cap', 'cabeacon', []],
  ['catest.pcap', 'catest', []],
  ['example_tcp_data.pcap', 'example_tcp_data', [50421]], // server on 50421: ca.lua needed -d too
  ['example_udp_data.pcap', 'example_udp_data', []],
  ['derived/catest.mss1448.pcap', 'catest.mss1448', []],
];

describe.skipIf(!HAVE_SHARED)('public captures: at least what the Wireshark CA plugin decoded', () => {
  it.each(PUBLIC_FILES)('%s', async (file, anchor, ports) => {
    const tsv = readFileSync(join(PUBLIC, 'anchors', `${anchor}.tshark-msgs.tsv`), 'utf8').trim().split('\n').slice(1);
    const theirs = count(tsv, (l) => {
      const f = l.split('\t');
      return `${f[0]} ${Number(f[8])}`; // frame, command code
    });
    const { events } = await collectEvents(join(PUBLIC, file), { ports });
    const ours = count(events, (ev) => `${ev.frame} ${ev.command.command}`);
    const missing = [...theirs].filter(([k, n]) => (ours.get(k) ?? 0) < n);
    expect(missing).toEqual([]);
    // Where we decode more, the only reason is a client's wake-up datagram to its own port (not a CA port for ca.lua).
    const extra = events.filter((ev) => (theirs.get(`${ev.frame} ${ev.command.command}`) ?? 0) === 0);
    for (const ev of extra) expect(`${ev.type} ${ev.srcIp === ev.dstIp && ev.sport === ev.dport}`).toBe('VersionRequest true');
    expect(events.length - extra.length).toBe(tsv.length);
  });
});

describe.skipIf(!HAVE_SHARED)('ending a run early', () => {
  it('stop() after the first 1 MiB chunk leaves the rest of the file unread', async () => {
    const { runDissection } = await import('../../src/dissect/run.js');
    let asked = 0;
    const r = await runDissection(join(REAL, 'big_waveform.pcap'), {}, () => {}, { stop: () => ++asked === 1 });
    expect(asked).toBe(1);
    expect(r.capture.packets).toBeGreaterThan(0);
    expect(r.capture.packets).toBeLessThan(120);
  });
});
