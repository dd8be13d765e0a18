// Writes protocols/ca/messages.generated.ts from the table in commands.ts, as
// caproto generates its _headers.py: `npm run generate` (the build runs it too).
// A test fails when the committed file is not what the table generates.
//
// Why generated code and not classes made at run time: a message object is made
// per CA message, and its constructor's stores must each see one object shape.
// One constructor body shared by all classes (a base constructor, or a factory
// making classes) sees every shape and goes megamorphic, about 4x slower.

import { writeFileSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CMD, MAX_COMMAND } from './constants.js';
import { FIELDS, MESSAGES, OBSOLETE, docOf, sourceOf, type FieldName, type FieldSource, type HeaderWord, type MessageSpec } from './commands.js';

/** The message property behind each header word. */
const WORD_PROPERTY: Record<HeaderWord, string> = {
  data_type: 'dataTypeField',
  data_count: 'dataCountField',
  parameter1: 'parameter1',
  parameter2: 'parameter2',
};

/** Fields DataMessage provides, from the words and payload it reads. */
const DATA_MESSAGE_FIELDS: Readonly<Record<string, FieldSource>> = { data: 'dbr', metadata: 'dbr', data_type: 'data_type', data_count: 'data_count' };

const COMMAND_NAME: readonly string[] = Object.keys(CMD);

const isWord = (s: FieldSource): s is HeaderWord => typeof s === 'string' && s in WORD_PROPERTY;

/** The TypeScript type of a field's value, by where it is. */
function valueType(s: FieldSource): string {
  if (isWord(s)) return 'number';
  if (typeof s === 'object') return 'ip' in s ? 'string' : s.absent === undefined ? 'number | undefined' : 'number';
  switch (s) {
    case 'text':
    case 'error-text':
      return 'string';
    case 'error-header':
      return 'EmbeddedHeader | undefined';
    case 'dbr':
      throw new Error('DBR fields are DataMessage getters');
  }
}

/** The getter body's expression for a field, by where it is. */
function valueExpression(s: FieldSource): string {
  if (isWord(s)) return `this.${WORD_PROPERTY[s]}`;
  if (typeof s === 'object') {
    if ('ip' in s) return `ipToString(this.${WORD_PROPERTY[s.ip]})`;
    const at = s.u16 === 0 ? 'this.payloadOffset' : `this.payloadOffset + ${s.u16}`;
    return `this.payloadSize >= ${s.u16 + 2} ? u16be(this.buf, ${at}) : ${String(s.absent)}`;
  }
  switch (s) {
    case 'text':
      return 'cString(this.buf, this.payloadOffset, this.payloadSize)';
    case 'error-header':
      return 'embeddedHeader(this.buf, this.payloadOffset, this.payloadSize)';
    case 'error-text':
      return 'errorText(this.buf, this.payloadOffset, this.payloadSize)';
    case 'dbr':
      throw new Error('DBR fields are DataMessage getters');
  }
}

const isDataMessage = (m: MessageSpec): boolean => Object.values(m.fields).some((f) => sourceOf(f!) === 'dbr');

const fieldEntries = (fields: MessageSpec['fields']): [FieldName, FieldSource, string | undefined][] =>
  (Object.entries(fields) as [FieldName, NonNullable<MessageSpec['fields'][FieldName]>][]).map(([name, spec]) => [name, sourceOf(spec), docOf(spec)]);

const quoteList = (names: readonly string[]): string => `[${names.map((n) => `'${n}'`).join(', ')}]`;

/** Checks what the types cannot: each command decodes to one class per sender, fields where their class reads them. */
function check(): void {
  const types = new Set<string>();
  for (const m of MESSAGES) {
    if (types.has(m.type)) throw new Error(`${m.type} is declared twice`);
    types.add(m.type);
    const names = Object.keys(m.fields);
    for (const f of [...(m.print ?? []), ...(m.udpForm?.print ?? [])]) if (!names.includes(f)) throw new Error(`${m.type} prints ${f}, which it does not have`);
    if (m.udpForm && m.command !== CMD.VERSION) throw new Error(`${m.type}: decodeMessage gives only VERSION its UDP form`);
    for (const [name, source] of fieldEntries(m.fields)) {
      const base = DATA_MESSAGE_FIELDS[name];
      if (source === 'dbr' && base !== 'dbr') throw new Error(`${m.type}.${name}: DBR payload fields are data and metadata`);
      if (isDataMessage(m) && base !== undefined && base !== source) throw new Error(`${m.type}.${name}: DataMessage reads it from ${String(base)}`);
      if (typeof source === 'object' && 'u16' in source && (m.payloadSize ?? 0) < source.u16 + 2) throw new Error(`${m.type}.${name}: past its payloadSize`);
    }
  }
  for (let code = 0; code <= MAX_COMMAND; code++) {
    const ms = MESSAGES.filter((m) => m.command === code && !m.emptyPayload);
    if (ms.length === 0) continue;
    const ok = ms.length === 1 ? ms[0]!.oneWay : ms.length === 2 && ms[0]!.direction === 'request' && ms[1]!.direction === 'response' && !ms[0]!.oneWay && !ms[1]!.oneWay;
    if (!ok) throw new Error(`command ${code}: one one-way class, or a request class then a response class`);
    if (code in OBSOLETE.names) throw new Error(`command ${code} is both obsolete and declared`);
  }
}

const CONSTRUCTOR = [
  '  constructor(c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) {',
  '    super();',
];
const STORES = [
  '    const w = this as Mutable<CaMessageBase>;',
  '    w.command = c;',
  '    w.payloadSize = ps;',
  '    w.dataTypeField = dt;',
  '    w.dataCountField = dc;',
  '    w.parameter1 = p1;',
  '    w.parameter2 = p2;',
  '    w.buf = buf;',
  '    w.payloadOffset = po;',
  '    w.headerSize = hs;',
  '  }',
];

const fieldListName = (type: string, form = ''): string => `F_${type}${form}`;

function getters(out: string[], fields: MessageSpec['fields'], inherited: Readonly<Record<string, FieldSource>>): void {
  for (const [name, source, doc] of fieldEntries(fields)) {
    if (name in inherited) continue;
    if (isWord(source) && WORD_PROPERTY[source] === name) continue; // the header word itself (parameter1, parameter2)
    if (doc) out.push(`  /** ${doc} */`);
    out.push(`  get ${name}(): ${valueType(source)} {`, `    return ${valueExpression(source)};`, '  }');
  }
}

function messageClass(m: MessageSpec): string[] {
  const data = isDataMessage(m);
  const code = `${COMMAND_NAME[m.command]} (${m.command})`;
  const sender = m.oneWay ? '' : m.direction === 'request' ? ' from a client' : ' from a server';
  const out = [`/** ${code}${sender}: ${m.doc} */`, `export class ${m.type} extends ${data ? 'DataMessage' : 'CaMessageBase'} {`];
  out.push(`  declare readonly type: '${m.type}';`);
  if (m.udpForm) out.push('  /** sent over UDP (its datagram form) */', '  udp!: boolean;');
  out.push('  // Own constructor: monomorphic stores (see CaMessageBase).', ...CONSTRUCTOR);
  if (m.udpForm) out.push('    this.udp = false;');
  out.push(...STORES, '  static {', `    classFact(this, 'type', '${m.type}');`, `    classFact(this, 'direction', '${m.direction}');`);
  if (m.udpForm) {
    const when = ['this.udp', 'this.dataTypeField === 1', ...(m.udpForm.nonZeroSequence ? ['this.parameter1 !== 0'] : [])].join(' && ');
    out.push(
      "    Object.defineProperty(this.prototype, 'fields', {",
      `      get(this: ${m.type}) {`,
      `        return ${when} ? ${fieldListName(m.type, '_UDP')} : ${fieldListName(m.type)};`,
      '      },',
      '    });',
    );
  } else out.push(`    classFact(this, 'fields', ${fieldListName(m.type)});`);
  out.push('  }');
  getters(out, m.fields, data ? DATA_MESSAGE_FIELDS : {});
  for (const [name, [type, expression, doc]] of Object.entries(m.facts ?? {})) {
    out.push(`  /** ${doc} */`, `  get ${name}(): ${type} {`, `    return ${expression};`, '  }');
  }
  out.push('}');
  return out;
}

function obsoleteClass(): string[] {
  const out = [`/** ${OBSOLETE.doc} */`, 'export class ObsoleteMessage extends CaMessageBase {', '  declare readonly type: ObsoleteType;'];
  out.push('  // Own constructor: monomorphic stores (see CaMessageBase); the type is per message.');
  out.push(CONSTRUCTOR[0]!.replace('constructor(', 'constructor(type: ObsoleteType, '), CONSTRUCTOR[1]!);
  out.push('    (this as Mutable<ObsoleteMessage>).type = type;', ...STORES);
  out.push('  static {', `    classFact(this, 'fields', ${fieldListName('ObsoleteMessage')});`, '  }');
  getters(out, OBSOLETE.fields, {});
  out.push('}');
  return out;
}

/** The TypeScript type of what the synth encoder takes for a field. */
function inputType(s: FieldSource): string {
  if (typeof s === 'object' && 'ip' in s) return 'string | number';
  if (s === 'error-header') return 'Uint8Array';
  return valueType(s) === 'number | undefined' ? 'number' : valueType(s);
}

function encodeInput(m: MessageSpec): string {
  const parts: string[] = [];
  for (const [name, source] of fieldEntries(m.fields)) {
    if (source === 'dbr') {
      if (name === 'data') parts.push('payload: Uint8Array');
      continue;
    }
    parts.push(`${name}${m.defaults?.[name] !== undefined ? '?' : ''}: ${inputType(source)}`);
  }
  return `  ${m.type}: ${parts.length ? `{ ${parts.join('; ')} }` : 'Record<string, never>'};`;
}

/** The class decodeMessage makes for each command: [sent by a client, by a server, by a server with an empty payload]. */
function classTable(): string[] {
  const out = [
    '/** The class decodeMessage makes for each command code: [sent by a client, by a server, by a server with an empty payload]. */',
    'export const CLASSES_BY_COMMAND: readonly (readonly [MessageClass, MessageClass, MessageClass] | undefined)[] = [',
  ];
  for (let code = 0; code <= MAX_COMMAND; code++) {
    const ms = MESSAGES.filter((m) => m.command === code && !m.emptyPayload);
    const empty = MESSAGES.find((m) => m.command === code && m.emptyPayload);
    const entry = ms.length === 0 ? 'undefined' : ms.length === 1 ? `[${ms[0]!.type}, ${ms[0]!.type}, ${ms[0]!.type}]` : `[${ms[0]!.type}, ${ms[1]!.type}, ${(empty ?? ms[1]!).type}]`;
    out.push(`  /* ${code} ${COMMAND_NAME[code]} */ ${entry},`);
  }
  out.push('];');
  return out;
}

function typeCodes(): string[] {
  const out = [
    '/**',
    ' * Each class name with the command code it is decoded from and the sender it is',
    ' * decoded for: true a client, false a server, undefined either (a one-way',
    " * command's class is used whichever side the transport says sent it).",
    ' */',
    'export const TYPE_CODES: ReadonlyMap<string, { command: number; fromClient: boolean | undefined }> = new Map([',
  ];
  for (const m of MESSAGES) {
    const fromClient = m.oneWay ? 'undefined' : String(m.direction === 'request');
    out.push(`  ['${m.type}', { command: ${m.command}, fromClient: ${fromClient} }],`);
  }
  for (const [code, name] of Object.entries(OBSOLETE.names)) {
    out.push(`  ['${name}Request', { command: ${code}, fromClient: true }],`, `  ['${name}Response', { command: ${code}, fromClient: false }],`);
  }
  out.push(']);');
  return out;
}

/** The text of messages.generated.ts. */
export function generateMessages(): string {
  check();
  const obsoleteNames = Object.values(OBSOLETE.names);
  const messageTypes = [...MESSAGES.map((m) => m.type), ...obsoleteNames.flatMap((n) => [`${n}Request`, `${n}Response`])];
  const out: string[] = [
    '// Generated by protocols/ca/generate.ts from the table in protocols/ca/commands.ts',
    '// (`npm run generate`; the build runs it too). Do not edit: change the table.',
    '',
    "import { u16be } from '../bytes.js';",
    "import { ipToString } from './ip.js';",
    "import { CaMessageBase, DataMessage, classFact, cString, embeddedHeader, errorText, type EmbeddedHeader, type Mutable } from './message-base.js';",
    '',
    '// Field lists in print order (a class fact: the writers keep one writer per list).',
  ];
  for (const m of MESSAGES) {
    out.push(`const ${fieldListName(m.type)}: readonly string[] = ${quoteList(m.print ?? Object.keys(m.fields))};`);
    if (m.udpForm) out.push(`const ${fieldListName(m.type, '_UDP')}: readonly string[] = ${quoteList(m.udpForm.print)};`);
  }
  out.push(`const ${fieldListName('ObsoleteMessage')}: readonly string[] = ${quoteList(Object.keys(OBSOLETE.fields))};`, '');
  for (const m of MESSAGES) out.push(...messageClass(m), '');
  out.push(
    '/** Type names of the obsolete commands, and of codes past the table. */',
    `export type ObsoleteType = \`\${${obsoleteNames.map((n) => `'${n}'`).join(' | ')}}\${'Request' | 'Response'}\` | \`Command\${number}\${'Request' | 'Response'}\`;`,
    '',
    ...obsoleteClass(),
    '',
    '/** Each generated class by its type name (the union `CaMessage` and `CaMessageOf` are made from it). */',
    'export interface MessageClasses {',
    ...MESSAGES.map((m) => `  ${m.type}: ${m.type};`),
    '}',
    '',
    '/** Every message type name: a class name, or an obsolete command’s. */',
    'export type MessageType = keyof MessageClasses | ObsoleteType;',
    '',
    'type MessageClass = new (c: number, ps: number, dt: number, dc: number, p1: number, p2: number, buf: Buffer, po: number, hs: number) => CaMessageBase;',
    '',
    ...classTable(),
    '',
    '/** Names of the obsolete command codes (ObsoleteMessage). */',
    `export const OBSOLETE_NAMES: Readonly<Record<number, string>> = { ${Object.entries(OBSOLETE.names).map(([c, n]) => `${c}: '${n}'`).join(', ')} };`,
    '',
    ...typeCodes(),
    '',
    '/** Every class name decodeMessage can produce (for validating --command filters). */',
    `export const MESSAGE_TYPES: readonly MessageType[] = ${quoteList(messageTypes)};`,
    '',
    '/** Every field name a message class shows (for validating user templates before any output). */',
    `export const MESSAGE_FIELDS: ReadonlySet<string> = new Set(${quoteList(Object.keys(FIELDS))});`,
    '',
    'type FieldValues = { readonly [field: string]: unknown };',
    '',
    '/**',
    ' * A reader per field name, each its own property access: one keyed read',
    ' * `m[field]` for every class and field is megamorphic.',
    ' */',
    'export const FIELD_READERS: { readonly [field: string]: ((m: CaMessageBase) => unknown) | undefined } = {',
    ...Object.keys(FIELDS).map((f) => `  ${f}: (m) => (m as unknown as FieldValues).${f},`),
    '};',
    '',
    '/** What the synth encoder takes for each class: the fields it writes (DBR data as encoded bytes); `?` has a default. */',
    'export interface EncodeInput {',
    ...MESSAGES.map(encodeInput),
    '}',
    '',
  );
  return out.join('\n');
}

/** Writes the file when it differs; returns whether it did. */
export function writeGenerated(path: string): boolean {
  const text = generateMessages();
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // not there yet
  }
  if (old === text) return false;
  writeFileSync(path, text);
  return true;
}

// `node generate.js FILE` (npm run generate bundles this module and runs it so, from the repo's root).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? 'protocols/ca/messages.generated.ts';
  if (writeGenerated(path)) console.log(`wrote ${path}`);
}
