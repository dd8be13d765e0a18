import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caProtocol } from '../../protocols/ca/handler.js';
import type { Half, TcpCircuit } from '../../src/dissect/circuits.js';
import type { HandlerContext, ProtocolHandler, Role, StreamHandler } from '../../src/dissect/protocol.js';
import { runDissection } from '../../src/dissect/run.js';
import { skippedSummary } from '../../src/dissect/stats.js';
import { HAVE_SHARED, REAL, SHARED, SKIP_REASON } from '../helpers/shared.js';

const PVA = join(SHARED, 'corpus/public-pva');

/**
 * public-pva/README.md: messages per capture by kind and command, from an independent Python framer over
 * tshark's TCP (reassembled per direction) and UDP payloads. pva-tls is not in that table (TLS, not framed):
 * its pvAccess over TLS is on IPv6, which cawire does not read; what is counted there is its five IPv4 UDP
 * datagrams, one message each (tshark -Y ip -e udp.payload: command bytes 03, 03, 04, 00, 00).
 */
const README_COUNTS: Record<string, string> = {
  'pva-monitor.pcapng': 'app 1: 2, app 3: 1, app 4: 1, app 7: 2, app 9: 1, app 13: 9, ctrl 2: 1',
  'pva-monitor2.pcapng': 'app 1: 2, app 3: 2, app 4: 2, app 7: 4, app 9: 1, app 13: 19, ctrl 2: 1',
  'pva-ops.pcapng': 'app 1: 8, app 3: 12, app 4: 4, app 7: 8, app 8: 4, app 9: 4, app 10: 8, app 11: 8, app 13: 9, app 15: 1, app 17: 6, ctrl 2: 4',
  'pva-put-error.pcapng': 'app 11: 1',
  'pva-search-found.pcapng': 'app 3: 3, app 4: 1',
  'pva-search-many.pcapng': 'app 3: 18, app 4: 1',
  'pva-search.pcapng': 'app 3: 12',
  'pva-stress.pcapng': 'app 0: 1, app 1: 2, app 3: 1, app 7: 2, app 9: 1, app 10: 402, app 11: 404, app 13: 677, app 15: 99, ctrl 2: 1',
  'pva-v2-monitor-pipeline.pcapng': 'app 1: 2, app 7: 2, app 9: 1, app 13: 25, app 15: 1, ctrl 2: 1',
  'pvxs-monitor.pcapng': 'app 0: 1, app 1: 2, app 3: 1, app 4: 1, app 7: 2, app 9: 1, app 13: 10, app 15: 1, ctrl 2: 1',
  'pvxs-monitor2.pcapng': 'app 1: 2, app 3: 1, app 4: 1, app 7: 4, app 9: 1, app 13: 16, app 15: 2, ctrl 2: 1',
  'pva-tls.pcapng': 'app 0: 2, app 3: 2, app 4: 1',
};
/** README totals (the 'messages' column; pva-tls: the five datagrams above) */
const README_TOTALS: Record<string, number> = {
  'pva-monitor.pcapng': 17,
  'pva-monitor2.pcapng': 31,
  'pva-ops.pcapng': 76,
  'pva-put-error.pcapng': 1,
  'pva-search-found.pcapng': 4,
  'pva-search-many.pcapng': 19,
  'pva-search.pcapng': 12,
  'pva-stress.pcapng': 1590,
  'pva-v2-monitor-pipeline.pcapng': 32,
  'pvxs-monitor.pcapng': 20,
  'pvxs-monitor2.pcapng': 28,
  'pva-tls.pcapng': 5,
};

const parseCounts = (s: string): Record<string, number> =>
  Object.fromEntries(s.split(', ').map((kv) => [kv.slice(0, kv.lastIndexOf(':')), Number(kv.slice(kv.lastIndexOf(':') + 2))]));

describe.skipIf(!HAVE_SHARED)('pvAccess stub handler on the public pvAccess captures', () => {
  if (!HAVE_SHARED) console.warn(SKIP_REASON);
  for (const [file, counts] of Object.entries(README_COUNTS)) {
    it(`${file}: the README's messages by kind and command, none malformed, no CA event`, async () => {
      let events = 0;
      const { stats } = await runDissection(join(PVA, file), {}, () => void events++);
      const pva = stats.protocols.pva!;
      expect(pva.byCommand).toEqual(parseCounts(counts));
      expect(pva.messages).toBe(README_TOTALS[file]);
      expect(pva.malformed).toBe(0);
      expect(events).toBe(0);
      expect(stats.caMessages).toBe(0);
    });
  }

  it('the end-of-run notes name pvAccess, not "other ports", and say why no CA was decoded', async () => {
    const { stats } = await runDissection(join(PVA, 'pva-monitor.pcapng'), {}, () => {});
    // pva-monitor: 36 packets, all IPv4 TCP 5075 or pvAccess UDP (tshark): none left on other ports
    expect(stats.otherPorts).toBe(0);
    expect(skippedSummary(stats)).toBe('not decoded: 17 pvAccess messages on TCP 5075, UDP 5075/5076 (cawire decodes CA)');
    expect(stats.littleDecoded).toBe('no CA messages decoded: pvAccess traffic seen (17 messages on TCP 5075, UDP 5075/5076), which cawire does not decode');
  });
});

/** What a protocol of the test's own sees: bytes per direction, gaps, ends, datagrams. */
class ByteCounter implements ProtocolHandler {
  readonly name = 'bytes';
  readonly heuristic = false;
  readonly circuits = new Set<TcpCircuit>();
  readonly bytes = { up: 0, down: 0 };
  ends = 0;
  gaps = 0;
  datagrams: string[] = [];
  finished = false;

  constructor(readonly ctx: HandlerContext) {}
  isServerEndpoint(_ip: number, port: number): boolean {
    return port === 5075;
  }
  senderRole(): Role | undefined {
    return undefined;
  }
  circuitState(): object {
    return {};
  }
  stream(half: Half): StreamHandler {
    this.circuits.add(half.circuit);
    const dir = half.fromClient ? 'up' : 'down';
    return {
      push: (_buf, _off, len) => void (this.bytes[dir] += len),
      gap: () => void this.gaps++,
      end: () => void this.ends++,
    };
  }
  datagram(_srcIp: number, sport: number, _dstIp: number, dport: number, _buf: Buffer, _off: number, len: number): boolean {
    if (dport !== 5076) return false;
    this.datagrams.push(`${sport}->${dport} ${len} at frame ${this.ctx.packet.frame}`);
    return true;
  }
  finish(): void {
    this.finished = true;
  }
}

describe.skipIf(!HAVE_SHARED)('a protocol handler registered from outside the engine', () => {
  it('gets its circuits and datagrams, the reassembled bytes per direction, and the end', async () => {
    let handler!: ByteCounter;
    const make = (ctx: HandlerContext) => (handler = new ByteCounter(ctx));
    const ended: TcpCircuit[] = [];
    const { stats } = await runDissection(join(PVA, 'pva-monitor.pcapng'), { protocols: [caProtocol, make] }, () => {}, { listener: { circuitEnded: (c) => void ended.push(c) } });
    // tshark -Y 'ip && tcp.len>0': 4 segments of 117 bytes in all to 5075, 10 of 1066 bytes from it
    expect(handler.bytes).toEqual({ up: 117, down: 1066 });
    expect(handler.circuits.size).toBe(1);
    const [c] = [...handler.circuits];
    expect([c!.protocol, c!.clientPort, c!.serverPort, c!.roleEvidence, c!.endedBy]).toEqual(['bytes', 44532, 5075, 'syn', 'fin']);
    expect(ended).toEqual([c]);
    expect([handler.ends, handler.gaps, handler.finished]).toEqual([2, 0, true]);
    // tshark -Y 'ip && udp': 47349 -> 5076 (udp.length 57, so 49 bytes of payload) in frame 1, and one reply to 47349
    // from 43109, which no handler here claims (the pvAccess stub is not registered)
    expect(handler.datagrams).toEqual(['47349->5076 49 at frame 1']);
    expect(stats.otherPorts).toBe(1);
    expect(stats.protocols.pva).toBeUndefined();
  });
});

describe.skipIf(!HAVE_SHARED)('the hint when little CA was decoded', () => {
  it('caget_basic.pcap with the CA ports moved away names its busiest ports and what to try', async () => {
    const env = { EPICS_CA_SERVER_PORT: '6000', EPICS_CA_REPEATER_PORT: '6001' };
    const { stats } = await runDissection(join(REAL, 'caget_basic.pcap'), { env }, () => {});
    // tshark: 231 packets, all TCP or UDP; tcp.port==5064: 192, udp.port==5064: 24, udp.port==5065: 3
    expect(stats.caMessages).toBe(0);
    expect(stats.otherPorts).toBe(231);
    expect(stats.busiestOtherPorts).toEqual([
      { transport: 'tcp', port: 5064, packets: 192 },
      { transport: 'udp', port: 5064, packets: 24 },
      { transport: 'udp', port: 5065, packets: 3 },
    ]);
    expect(stats.littleDecoded).toBe(
      'no CA messages decoded: busiest undecoded ports: tcp 5064 (192 packets), udp 5064 (24 packets), udp 5065 (3 packets); ' +
        'if CA runs on one of them, try --ports 5064 or EPICS_CA_SERVER_PORT=5064 (CA server port now 6000, repeater 6001)',
    );
  });

  it('example_tcp_data.pcap (CA on TCP 50421, its handshake caught) names 50421 as the port to try', async () => {
    const { stats } = await runDissection(join(SHARED, 'corpus/public/example_tcp_data.pcap'), { env: {} }, () => {});
    // public/README.md: 45 packets, one TCP circuit to a server on TCP 50421 (tshark -Y tcp.port==50421: 45)
    expect(stats.busiestOtherPorts).toEqual([{ transport: 'tcp', port: 50421, packets: 45 }]);
    expect(stats.littleDecoded).toContain('try --ports 50421 or EPICS_CA_SERVER_PORT=50421 (CA server port now 5064, repeater 5065)');
  });

  it('no hint on caget_basic.pcap with the default ports', async () => {
    const { stats } = await runDissection(join(REAL, 'caget_basic.pcap'), { env: {} }, () => {});
    expect(stats.littleDecoded).toBe('');
    expect(stats.protocols.pva!.messages).toBe(0);
  });
});
