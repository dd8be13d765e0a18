import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CircuitAnalysis, circuitDuration, circuitEnding, openChannels, resetCircuits, type CircuitSummary } from '../../src/analysis/circuits.js';
import type { CaptureSource } from '../../src/capture/source.js';
import { runDissection } from '../../src/dissect/run.js';
import { HAVE_SHARED, REAL, SHARED } from '../helpers/shared.js';
import { circuitCapture } from './report-captures.js';

/** The rows as the CLI makes them (monitor updates counted from their header words), or with `everyEvent` from an event each. */
async function circuits(source: CaptureSource, everyEvent = false): Promise<CircuitSummary[]> {
  const analysis = new CircuitAnalysis();
  await runDissection(source, everyEvent ? {} : analysis.selection(), (ev) => analysis.event(ev), { listener: analysis });
  return analysis.finish();
}

describe('circuit analysis', () => {
  it('counts monitor updates from their header words exactly as from their events', async () => {
    const demo = new URL('../../fixtures/demo.pcap', import.meta.url).pathname;
    expect(new CircuitAnalysis().selection().wants!(1, false)).toBe(false);
    for (const source of [demo, circuitCapture()]) {
      const rows = await circuits(source);
      expect(rows).toEqual(await circuits(source, true));
      expect(rows.reduce((n, c) => n + c.updates, 0)).toBeGreaterThan(0);
    }
  });

  it('gives each circuit its ends, names, versions, timing and bytes', async () => {
    const rows = await circuits(circuitCapture());
    expect(
      rows.map((c) => [c.id, c.client, c.server, c.hostName, c.userName, c.clientVersion, c.serverVersion, c.priority, c.startFrame, c.lastMessage?.frame]),
    ).toEqual([
      [1, '10.0.0.9:40001', '10.0.0.1:5064', 'opi\x1b[2J', 'ops', 13, 13, 10, 1, 40],
      [2, '10.0.0.9:40002', '10.0.0.2:5064', undefined, undefined, 13, 13, 0, 20, 29],
      [3, '10.0.0.9:40003', '10.0.0.1:5064', undefined, undefined, 13, undefined, 0, 31, 34],
      [4, '10.0.0.9:40004', '10.0.0.2:5064', undefined, undefined, undefined, undefined, undefined, 43, undefined],
    ]);
    const c1 = rows[0]!;
    // TcpSession spaces the packets of one call 10 us apart: SYN at 0, SYN-ACK at 10 us
    expect(c1.handshakeRtt).toBeCloseTo(0.00001, 6);
    expect(circuitDuration(c1)).toBeCloseTo(32, 9);
    // CA up: VERSION 16, CLIENT_NAME 24, HOST_NAME 24, CREATE_CHAN 24 + 24 + 32, EVENT_ADD 32, EVENTS_OFF/ON 2 x 16, ECHO 16;
    // down: 6 x 16 (VERSION, 2 x (ACCESS_RIGHTS, CREATE_CHAN), CREATE_CH_FAIL), 3 updates x 24, ECHO 16, SERVER_DISCONN 16
    expect([c1.caBytesToServer, c1.caBytesToClient]).toEqual([224, 200]);
    // TCP segment bytes: the CA bytes plus a 20-byte header for each of the 13 segments each way
    expect([c1.wireBytesToServer, c1.wireBytesToClient]).toEqual([224 + 13 * 20, 200 + 13 * 20]);
    expect([c1.retransmissions, c1.gaps, c1.gapBytes]).toEqual([0, 0, 0]);
  });

  it('counts channels, subscriptions, updates, flow control and echoes, and says how each circuit ended', async () => {
    const rows = await circuits(circuitCapture());
    expect(
      rows.map((c) => [
        c.created,
        c.cleared,
        c.createFailed,
        c.serverDisconnected,
        openChannels(c),
        [c.subscriptions, c.cancelled, c.updates],
        [c.eventsOff, c.eventsOn, c.echoRequests, c.echoResponses],
        circuitEnding(c),
      ]),
    ).toEqual([
      [['A:one', 'A:two', 'A:missing'], [], ['A:missing'], ['A:two'], 1, [1, 0, 3], [1, 1, 1, 1], 'RST by server, ServerDisconn x1'],
      [['B:one'], ['B:one'], [], [], 0, [0, 0, 0], [0, 0, 0, 0], 'FIN by server'],
      [[], [], [], [], 0, [0, 0, 0], [0, 0, 0, 0], 'open at end'],
      [[], [], [], [], 0, [0, 0, 0], [0, 0, 0, 0], 'RST by server'],
    ]);
  });

  it('lists the circuits cut by a reset with the other circuits of the client host open then', async () => {
    const resets = resetCircuits(await circuits(circuitCapture()));
    // at 32 s circuits 2 and 3 are open; at 35 s (the refused connection) too: 1 has ended, 2 ends at 40 s
    expect(resets.map((r) => [r.circuit.id, r.circuit.rstBy, r.othersOpen])).toEqual([
      [1, 'server', 2],
      [4, 'server', 2],
    ]);
  });

  describe.skipIf(!HAVE_SHARED)('real captures', () => {
    it('monitor_cancel: 4 channels and 4 subscriptions open and close on one circuit', async () => {
      const rows = await circuits(join(REAL, 'monitor_cancel.pcap'));
      expect(rows).toHaveLength(1);
      const c = rows[0]!;
      const names = ['TEST:calc10', 'TEST:calc100', 'TEST:ai', 'TEST:mbbi'];
      expect([c.client, c.server, c.hostName, c.userName, c.clientVersion, c.serverVersion, c.priority]).toEqual(['127.0.0.1:45426', '127.0.0.1:5064', 'vm', 'root', 13, 13, 0]);
      expect([c.created, c.cleared, c.subscriptions, c.cancelled, c.updates, openChannels(c), circuitEnding(c)]).toEqual([names, names, 4, 4, 337, 0, 'FIN by client']);
      expect([c.startFrame, c.lastMessage?.frame]).toEqual([4, 512]);
    });

    it('echo_idle: the 4 echo probes and their replies', async () => {
      const [c] = await circuits(join(REAL, 'echo_idle.pcap'));
      expect([c!.echoRequests, c!.echoResponses, c!.subscriptions, c!.updates, circuitEnding(c!)]).toEqual([4, 4, 2, 2, 'FIN by client']);
    });

    it('twopoint_lossy.client: the loss TCP recovered is counted on the circuit of the monitors (issue 15)', async () => {
      const rows = await circuits(join(SHARED, 'corpus/scenarios/twopoint_lossy.client.pcap'));
      // twopoint_lossy.txt, TCP facts: "client capture: retransmissions 149" (tshark 4.0); every TCP packet is CA
      expect(rows.reduce((n, c) => n + c.retransmissions, 0)).toBe(149);
      // 139 of them on the monitors' circuit, all toward the client (`tshark -Y 'tcp.stream==1 &&
      // tcp.analysis.retransmission'`: 139 frames); the segments lost before the capture point were all sent again
      const monitors = rows.find((c) => c.created.includes('TP:wf'))!;
      expect([monitors.retransmissions, monitors.gaps]).toEqual([139, 0]);
      expect([monitors.tcpToClient.retransmissions, monitors.tcpToServer.retransmissions]).toEqual([139, 0]);
    });

    it('multi_ioc: 20 circuits and 40 channels per server, each channel on the IOC that has it', async () => {
      const rows = await circuits(join(REAL, 'multi_ioc.pcap'));
      expect(rows).toHaveLength(60);
      const byServer = new Map<string, { circuits: number; channels: Map<string, number> }>();
      for (const c of rows) {
        let s = byServer.get(c.server);
        if (!s) byServer.set(c.server, (s = { circuits: 0, channels: new Map() }));
        s.circuits++;
        for (const pv of c.created) s.channels.set(pv, (s.channels.get(pv) ?? 0) + 1);
        expect([c.cleared, circuitEnding(c)]).toEqual([c.created, 'FIN by client']);
      }
      expect([...byServer].sort().map(([server, s]) => [server, s.circuits, [...s.channels]])).toEqual([
        ['127.0.0.1:38231', 20, [['IOC3:ai', 20], ['IOC3:mbbi', 20]]],
        ['127.0.0.1:41233', 20, [['IOC2:ai', 20], ['IOC2:mbbi', 20]]],
        ['127.0.0.1:5064', 20, [['IOC1:ai', 20], ['IOC1:mbbi', 20]]],
      ]);
      expect(resetCircuits(rows)).toEqual([]);
    });
  });
});
