// User format strings: `--format '{timestamp} {src}:{sport}->{dst}:{dport} {command}'`.
// A template is parsed once into literal text and token writers, which write a
// line's UTF-8 bytes straight into the output buffer; nothing in it is ever
// evaluated as code.

import { DataMessage, MESSAGE_FIELDS } from '../../protocols/ca/messages.js';
import type { CaEvent } from '../dissect/event.js';
import { TEMPLATE_TOKENS, TemplateError, type TokenName } from './template-tokens.js';
import { TextOut, utf8Bytes } from './text-out.js';
import { asString, fieldWriter, safeText, writeCommand, writeIsoTime, writeSafeText, writeTimestamp } from './values.js';

export { DEFAULT_TEMPLATE, TEMPLATE_TOKENS, TemplateError } from './template-tokens.js';

/** Writes one token's text for an event. */
export type TokenWriter = (out: TextOut, ev: CaEvent) => void;

const TOKENS: Record<TokenName, TokenWriter> = {
  timestamp: (out, ev) => writeTimestamp(out, ev.tsSec, ev.tsNsec),
  time: (out, ev) => writeIsoTime(out, ev.tsSec, ev.tsNsec),
  frame: (out, ev) => out.num(ev.frame),
  src: (out, ev) => out.str(ev.src),
  dst: (out, ev) => out.str(ev.dst),
  sport: (out, ev) => out.num(ev.sport),
  dport: (out, ev) => out.num(ev.dport),
  transport: (out, ev) => out.str(ev.transport),
  direction: (out, ev) => out.str(ev.direction),
  pv: (out, ev) => ev.pv !== undefined && writeSafeText(out, ev.pv),
  type: (out, ev) => out.str(ev.type),
  command: (out, ev) => writeCommand(out, ev.command),
  code: (out, ev) => out.num(ev.command.command),
  size: (out, ev) => out.num(ev.command.size),
  circuit: (out, ev) => ev.circuit !== undefined && out.num(ev.circuit.id),
};

/** Token values that are the same for every event of a run. */
export interface TemplateContext {
  /** {file}: the capture file as given on the command line ('-' for stdin); '' when not given */
  file?: string;
}

/** Compiles a template into a writer of each event's line (without the newline) into a TextOut. */
export function compileTemplateWriter(template: string, context: TemplateContext = {}): (out: TextOut, ev: CaEvent) => void {
  // Literal text alternating with token writers: lits[0] w[0] lits[1] w[1] … tail.
  const lits: Uint8Array[] = [];
  const tokens: string[] = [];
  const writers: TokenWriter[] = [];
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      lit += c; // '{{' and '}}' are literal braces
      i++;
      continue;
    }
    if (c === '}') throw new TemplateError(`unmatched '}' at position ${i + 1} of the format`);
    if (c !== '{') {
      lit += c;
      continue;
    }
    const close = template.indexOf('}', i);
    if (close < 0) throw new TemplateError(`unclosed '{' at position ${i + 1} of the format`);
    const token = template.slice(i + 1, close).trim();
    i = close;
    if (token === 'file') {
      lit += safeText(context.file ?? ''); // the same for every line: literal text
      continue;
    }
    lits.push(utf8Bytes(lit));
    tokens.push(token);
    writers.push(writer(token));
    lit = '';
  }
  const tail = utf8Bytes(lit);
  groupCircuitConstants(lits, tokens, writers);
  const n = writers.length;
  return (out, ev) => {
    for (let i = 0; i < n; i++) {
      const l = lits[i]!;
      if (l.length > 0) out.bytes(l);
      writers[i]!(out, ev);
    }
    if (tail.length > 0) out.bytes(tail);
  };
}

/** Tokens whose text is the same for every TCP message of a circuit in one direction. */
const CIRCUIT_CONSTANT: ReadonlySet<string> = new Set(['src', 'dst', 'sport', 'dport', 'transport', 'circuit']);

/**
 * Replaces each run of circuit-constant tokens (with the literals between them,
 * as in `{src}:{sport}->{dst}:{dport}`) by one writer that keeps the run's bytes
 * per circuit and direction: two addresses and two ports are eleven writes.
 * The arrays are compileTemplateWriter's: lits[k] precedes writers[k].
 */
function groupCircuitConstants(lits: Uint8Array[], tokens: string[], writers: TokenWriter[]): void {
  for (let k = 0; k < writers.length; k++) {
    if (!CIRCUIT_CONSTANT.has(tokens[k]!)) continue;
    let j = k;
    while (j + 1 < writers.length && CIRCUIT_CONSTANT.has(tokens[j + 1]!)) j++;
    const run = writers.slice(k, j + 1);
    const between = lits.slice(k + 1, j + 1);
    const write: TokenWriter = (out, ev) => {
      run[0]!(out, ev);
      for (let i = 1; i < run.length; i++) {
        out.bytes(between[i - 1]!);
        run[i]!(out, ev);
      }
    };
    writers.splice(k, j + 1 - k, perCircuit(write));
    tokens.splice(k, j + 1 - k, 'circuit-constant');
    lits.splice(k + 1, j - k);
  }
}

const CIRCUIT_SLOTS = 1024;

/**
 * `write`'s bytes kept per TCP circuit and direction, direct-mapped by circuit
 * id; UDP messages are written each time. A slot remembers the circuit by its id
 * and endpoints, not by the object: a retired circuit is not kept alive, and an
 * id reused by another capture's circuit is not mistaken for it.
 */
export function perCircuit(write: TokenWriter): TokenWriter {
  const ids = new Float64Array(CIRCUIT_SLOTS).fill(-1);
  const clientIps = new Uint32Array(CIRCUIT_SLOTS);
  const serverIps = new Uint32Array(CIRCUIT_SLOTS);
  const ports = new Uint32Array(CIRCUIT_SLOTS); // client port << 16 | server port
  const fromClient: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CIRCUIT_SLOTS).fill(undefined);
  const fromServer: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CIRCUIT_SLOTS).fill(undefined);
  const scratch = new TextOut(256);
  return (out, ev) => {
    const c = ev.circuit;
    if (c === undefined) {
      write(out, ev);
      return;
    }
    const slot = c.id & (CIRCUIT_SLOTS - 1);
    const portPair = ((c.clientPort << 16) | c.serverPort) >>> 0;
    if (ids[slot] !== c.id || clientIps[slot] !== c.clientIp || serverIps[slot] !== c.serverIp || ports[slot] !== portPair) {
      ids[slot] = c.id;
      clientIps[slot] = c.clientIp;
      serverIps[slot] = c.serverIp;
      ports[slot] = portPair;
      fromClient[slot] = fromServer[slot] = undefined;
    }
    const texts = ev.srcIp === c.clientIp && ev.sport === c.clientPort ? fromClient : fromServer;
    let bytes = texts[slot];
    if (bytes === undefined) {
      scratch.pos = 0;
      write(scratch, ev);
      bytes = texts[slot] = new Uint8Array(scratch.buf.subarray(0, scratch.pos)); // a copy: scratch is reused
    }
    out.bytes(bytes);
  };
}

/** Compiles a template to a function giving each event's line; throws TemplateError naming an unknown token or an unclosed brace. */
export function compileTemplate(template: string, context: TemplateContext = {}): (ev: CaEvent) => string {
  const write = compileTemplateWriter(template, context);
  return (ev) => asString((out) => write(out, ev));
}

const HEX = utf8Bytes('0123456789abcdef');

/** `len` bytes of `buf` from `at` as lowercase hex, two digits a byte. */
function writeHex(out: TextOut, buf: Buffer, at: number, len: number): void {
  out.room(2 * len);
  const b = out.buf;
  let p = out.pos;
  for (let i = at; i < at + len; i++) {
    const x = buf[i]!;
    b[p++] = HEX[x >> 4]!;
    b[p++] = HEX[x & 15]!;
  }
  out.pos = p;
}

/** {payload} or {payload:OFF[:LEN]}: the payload's bytes (or those from OFF, LEN of them) as hex; nothing past the payload's end. */
function payloadWriter(token: string): TokenWriter | undefined {
  const m = /^payload(?::(\d+)(?::(\d+))?)?$/.exec(token);
  if (!m) return undefined;
  const off = m[1] === undefined ? 0 : Number(m[1]);
  const len = m[2] === undefined ? Infinity : Number(m[2]);
  return (out, ev) => {
    const c = ev.command;
    const from = Math.min(off, c.payloadSize);
    writeHex(out, c.buf, c.payloadOffset + from, Math.min(len, c.payloadSize - from));
  };
}

/** A decoded value as the mcsd pipeline wants it: a number as String(n) writes it, a string as safe text. */
function writeValue(out: TextOut, v: number | string): void {
  if (typeof v === 'string') writeSafeText(out, v);
  else out.num(v);
}

/** {data}: every decoded value, space-separated; {data[N]}: element N (nothing when there is none or the message has no data). */
function dataWriter(token: string): TokenWriter | undefined {
  if (token === 'data') {
    return (out, ev) => {
      const c = ev.command;
      if (!(c instanceof DataMessage)) return;
      const values = c.data;
      for (let i = 0; i < values.length; i++) {
        if (i > 0) out.char(32);
        writeValue(out, values[i]!);
      }
    };
  }
  const m = /^data\[(\d+)\]$/.exec(token);
  if (!m) return undefined;
  const k = Number(m[1]);
  return (out, ev) => {
    const c = ev.command;
    if (!(c instanceof DataMessage)) return;
    const values = c.preview(k + 1).values;
    if (k < values.length) writeValue(out, values[k]!);
  };
}

function writer(token: string): TokenWriter {
  const bytes = payloadWriter(token) ?? dataWriter(token);
  if (bytes) return bytes;
  const direct = Object.hasOwn(TOKENS, token) ? TOKENS[token as TokenName] : undefined;
  if (direct) return direct;
  if (token.startsWith('command.')) {
    const field = token.slice('command.'.length);
    if (MESSAGE_FIELDS.has(field)) {
      const write = fieldWriter(field, false);
      return (out, ev) => write(out, ev.command);
    }
    throw new TemplateError(`unknown field '${field}' in {${token}}; fields: ${[...MESSAGE_FIELDS].join(', ')}`);
  }
  throw new TemplateError(`unknown token {${token}}; tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}`);
}
