import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateError } from '../../src/output/template.js';
import { CaEvent } from '../../src/dissect/event.js';
import type { TcpCircuit } from '../../src/dissect/circuits.js';
import { decodeMessage } from '../../protocols/ca/messages.js';
import { encodeDbr } from '../../protocols/ca/dbr.js';
import * as enc from '../../src/synth/ca-encode.js';

const ip = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

function event(bytes: Buffer, fromClient: boolean, pv?: string): CaEvent {
  const m = decodeMessage(bytes, 0, 16, bytes.length - 16, fromClient, false);
  return fromClient
    ? new CaEvent(1700000000, 123456000, 42, ip('10.0.0.2'), 40000, ip('10.0.0.1'), 5064, 'tcp', m, pv, undefined)
    : new CaEvent(1700000000, 123456000, 42, ip('10.0.0.1'), 5064, ip('10.0.0.2'), 40000, 'tcp', m, pv, undefined);
}

describe('format templates', () => {
  const ev = event(enc.createChanRequest({ name: 'TEST:ai', cid: 7, version: 13 }), true, 'TEST:ai');
  it('fills every token', () => {
    const t = compileTemplate('{timestamp}|{time}|{frame}|{src}:{sport}->{dst}:{dport}|{transport}|{direction}|{pv}|{type}|{code}|{size}|{command.cid}');
    expect(t(ev)).toBe('1700000000.123456|2023-11-14T22:13:20.123456000Z|42|10.0.0.2:40000->10.0.0.1:5064|tcp|request|TEST:ai|CreateChanRequest|18|24|7');
  });
  it('keeps literal braces and prints a field a message lacks as empty', () => {
    expect(compileTemplate('{{{type}}} ioid={command.ioid}')(ev)).toBe('{CreateChanRequest} ioid=');
  });
  it('rejects unknown tokens and fields before any output, naming them', () => {
    expect(() => compileTemplate('{nope}')).toThrow(TemplateError);
    expect(() => compileTemplate('{nope}')).toThrow(/unknown token \{nope\}/);
    expect(() => compileTemplate('{command.constructor}')).toThrow(/unknown field 'constructor'/);
    expect(() => compileTemplate('{__proto__}')).toThrow(TemplateError);
    expect(() => compileTemplate('{src')).toThrow(/unclosed/);
  });
  it('writes the addresses of TCP messages as kept per circuit and direction, circuits sharing a cache slot included', () => {
    const m = ev.command;
    // Ids 5 and 1029 fall in one slot of the per-circuit cache; 7 in another.
    const circuits = [
      { id: 5, clientIp: ip('10.0.0.2'), clientPort: 40000, serverIp: ip('10.0.0.1'), serverPort: 5064 },
      { id: 1029, clientIp: ip('10.0.0.3'), clientPort: 40001, serverIp: ip('10.0.0.1'), serverPort: 5064 },
      { id: 7, clientIp: ip('10.0.0.4'), clientPort: 40002, serverIp: ip('10.0.0.9'), serverPort: 41234 },
    ] as unknown as TcpCircuit[];
    const t = compileTemplate('{src}:{sport}->{dst}:{dport} {transport} {circuit}|{type}|{sport}');
    for (let i = 0; i < 12; i++) {
      const c = circuits[i % 3]!;
      const e =
        i % 2 === 0
          ? new CaEvent(1700000000, i, i, c.clientIp, c.clientPort, c.serverIp, c.serverPort, 'tcp', m, undefined, c)
          : new CaEvent(1700000000, i, i, c.serverIp, c.serverPort, c.clientIp, c.clientPort, 'tcp', m, undefined, c);
      expect(t(e)).toBe(`${e.src}:${e.sport}->${e.dst}:${e.dport} tcp ${c.id}|CreateChanRequest|${e.sport}`);
    }
    // Another capture's circuit with a reused id (a template used for two runs): its own addresses.
    const again = { id: 5, clientIp: ip('10.9.9.9'), clientPort: 40000, serverIp: ip('10.0.0.1'), serverPort: 5064 } as unknown as TcpCircuit;
    const reused = new CaEvent(1700000000, 0, 1, again.clientIp, again.clientPort, again.serverIp, again.serverPort, 'tcp', m, undefined, again);
    expect(t(reused)).toBe('10.9.9.9:40000->10.0.0.1:5064 tcp 5|CreateChanRequest|40000');
    // UDP messages have no circuit: written each time.
    const udp = new CaEvent(1700000000, 0, 1, ip('10.0.0.2'), 50000, ip('10.0.0.255'), 5064, 'udp', m, undefined, undefined);
    expect(t(udp)).toBe('10.0.0.2:50000->10.0.0.255:5064 udp |CreateChanRequest|50000');
  });
  it('writes wire strings safely: control characters escaped', () => {
    const bad = event(enc.createChanRequest({ name: 'X\x1b[2J', cid: 1, version: 13 }), true, 'X\x1b[2J');
    expect(compileTemplate('{pv} {command.name}')(bad)).toBe('X\\x1b[2J X\\x1b[2J');
  });
});
