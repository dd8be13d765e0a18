// Each CA message class declared once: its command code, who sends it, the
// header word or payload offset behind each field, and how each field is shown
// (as Wireshark's hf_register_info and dpkt's __hdr__ declare theirs; caproto
// generates its _headers.py from such a table). Class and field names are
// caproto's; ca-protocol-notes §4.1 gives each command's field use.
//
// Everything else is derived from this table:
// - protocols/ca/messages.generated.ts (`npm run generate`, also run by the build):
//   the message classes, decodeMessage's class table, TYPE_CODES, MESSAGE_TYPES,
//   MESSAGE_FIELDS, the field readers and the union types;
// - the text and JSON field writers (src/output/values.ts, json.ts), by FIELDS[f].show;
// - the synth encoder (src/synth/ca-encode.ts, encodeMessage).
//
// This module is read by the generator: it imports constants only.

import { ANY_ADDRESS, CMD, DONT_REPLY, DO_REPLY } from './constants.js';

/** The header words after command and payload size (data_count: the u32 at 20 of an extended header). */
export type HeaderWord = 'data_type' | 'data_count' | 'parameter1' | 'parameter2';

/** Where a field's value is on the wire. */
export type FieldSource =
  /** the header word, as a number */
  | HeaderWord
  /** the header word as a dotted IPv4 address (a string) */
  | { ip: HeaderWord }
  /** the big-endian u16 at this payload offset; `absent` when the payload is shorter */
  | { u16: number; absent: 0 | undefined }
  /** the payload as a NUL-terminated string */
  | 'text'
  /** DBR values or metadata of the payload, typed by data_type and data_count (a DataMessage) */
  | 'dbr'
  /** the header of the offending request, at the start of an ERROR's payload */
  | 'error-header'
  /** an ERROR's text, after that header */
  | 'error-text';

/** How a field's value is written in text (`print`, --format) and JSON (which adds `<field>_name` for codes). */
export type FieldShow =
  | 'number'
  | 'text'
  /** a DBR type code: DBR_TIME_DOUBLE */
  | 'dbr-type'
  /** an ECA status code: ECA_NORMAL */
  | 'eca'
  /** ACCESS_RIGHTS bits: READ|WRITE */
  | 'access-rights'
  /** EVENT_ADD mask bits: DBE_VALUE|DBE_ALARM */
  | 'event-mask'
  /** DBR values: the first few in text, all in JSON */
  | 'values'
  /** DBR metadata: DBR_TIME_DOUBLE(status=…, …) in text, an object in JSON */
  | 'metadata'
  /** an embedded CA header: READ_NOTIFY(data_type=…, …) */
  | 'header';

/** Every field a message shows, with how it is shown; the order is the one `--format` help lists. */
export const FIELDS = {
  name: { show: 'text' },
  cid: { show: 'number' },
  sid: { show: 'number' },
  ioid: { show: 'number' },
  subscriptionid: { show: 'number' },
  data_type: { show: 'dbr-type' },
  data_count: { show: 'number' },
  status: { show: 'eca' },
  port: { show: 'number' },
  ip: { show: 'text' },
  version: { show: 'number' },
  priority: { show: 'number' },
  sequence: { show: 'number' },
  reply: { show: 'number' },
  mask: { show: 'event-mask' },
  data: { show: 'values' },
  metadata: { show: 'metadata' },
  access_rights: { show: 'access-rights' },
  beacon_id: { show: 'number' },
  server_port: { show: 'number' },
  address: { show: 'text' },
  repeater_address: { show: 'text' },
  client_address: { show: 'text' },
  request: { show: 'header' },
  message: { show: 'text' },
  parameter1: { show: 'number' },
  parameter2: { show: 'number' },
} as const satisfies Record<string, { show: FieldShow }>;

export type FieldName = keyof typeof FIELDS;

/** A field's source, with a note on its use in this message when it needs one. */
export type FieldSpec = FieldSource | { from: FieldSource; doc: string };

export interface MessageSpec {
  /** the caproto class name */
  type: string;
  command: number;
  /** 'request': sent by a client; 'response': by a server */
  direction: 'request' | 'response';
  /** the one class of its command, decoded whichever side the transport says sent it */
  oneWay?: true;
  /** decoded instead of the command's response class when a server's payload is empty */
  emptyPayload?: true;
  doc: string;
  /** the fields in print order, each with where it is on the wire */
  fields: { readonly [F in FieldName]?: FieldSpec };
  /** the fields printed, when not all of `fields` */
  print?: readonly FieldName[];
  /** a UDP form (CA >= 4.11): data_type 1 flags parameter1 as the datagram's sequence number */
  udpForm?: {
    print: readonly FieldName[];
    /** the form also needs a sequence number other than 0 */
    nonZeroSequence?: true;
  };
  /** encoding: the payload's fixed length, when its fields sit at offsets ({ u16 }) */
  payloadSize?: number;
  /** encoding: header words written from a field that another word already carries */
  copies?: { readonly [W in HeaderWord]?: FieldName };
  /** encoding: values of fields a caller may leave out (the common sender's) */
  defaults?: { readonly [F in FieldName]?: number };
  /** read-only facts that are not fields: name -> [TypeScript type, expression on `this`, note] */
  facts?: Readonly<Record<string, readonly [type: string, expression: string, doc: string]>>;
}

const DBR_TYPE = 'data_type';
const DBR_COUNT = 'data_count';

/** The message classes, in the order `--command` help lists them. */
export const MESSAGES: readonly MessageSpec[] = [
  {
    type: 'VersionRequest',
    command: CMD.VERSION,
    direction: 'request',
    doc: 'TCP `(priority 0..99, client minor, 0, 0)`; over UDP `(1, minor, sequence, 0)` before every search.',
    fields: { priority: DBR_TYPE, version: DBR_COUNT, sequence: 'parameter1' },
    print: ['priority', 'version'],
    udpForm: { print: ['version', 'sequence'], nonZeroSequence: true },
    defaults: { priority: 0, sequence: 0 },
  },
  {
    type: 'VersionResponse',
    command: CMD.VERSION,
    direction: 'response',
    doc: 'TCP `(0, server minor, 0, 0)`; over UDP `(1, minor, sequence copied from the request, 0)`.',
    fields: { version: DBR_COUNT, sequence: 'parameter1' },
    print: ['version'],
    udpForm: { print: ['version', 'sequence'] },
    defaults: { sequence: 0 },
  },
  {
    type: 'SearchRequest',
    command: CMD.SEARCH,
    direction: 'request',
    doc: '`(reply flag, client minor, cid, cid | PV name)`; libca always sends DONT_REPLY.',
    fields: { name: 'text', cid: 'parameter1', version: DBR_COUNT, reply: { from: DBR_TYPE, doc: '5 = DONT_REPLY, 10 = DO_REPLY' } },
    copies: { parameter2: 'cid' },
    defaults: { reply: DONT_REPLY },
  },
  {
    type: 'SearchResponse',
    command: CMD.SEARCH,
    direction: 'response',
    doc: "`(server port, 0, server ip, cid | u16 server minor + 6 zero bytes)`; over TCP (CA >= 4.12) without the payload.",
    fields: {
      port: DBR_TYPE,
      ip: { from: { ip: 'parameter1' }, doc: "server address; '255.255.255.255' means the datagram's source address" },
      cid: 'parameter2',
      version: { from: { u16: 0, absent: undefined }, doc: 'server minor version: u16 at the start of the 8-byte UDP payload (absent over TCP)' },
    },
    payloadSize: 8,
    defaults: { ip: ANY_ADDRESS },
    facts: { usesSourceAddress: ['boolean', 'this.parameter1 === 0xffffffff', 'true when the reply names the source of its datagram rather than an address'] },
  },
  {
    type: 'NotFoundResponse',
    command: CMD.NOT_FOUND,
    direction: 'response',
    oneWay: true,
    doc: 'RSRV echoes the DO_REPLY search header: `(10, client minor, cid, cid)`.',
    fields: { reply: DBR_TYPE, version: DBR_COUNT, cid: 'parameter1' },
    copies: { parameter2: 'cid' },
    defaults: { reply: DO_REPLY },
  },
  {
    type: 'EventAddRequest',
    command: CMD.EVENT_ADD,
    direction: 'request',
    doc: '`(type, count, sid, subscriptionid | three f32 deadbands (0), u16 mask, u16 pad)`.',
    fields: {
      data_type: DBR_TYPE,
      data_count: DBR_COUNT,
      sid: 'parameter1',
      subscriptionid: 'parameter2',
      mask: { from: { u16: 12, absent: 0 }, doc: 'u16 after the three legacy f32 deadbands: 1 VALUE, 2 LOG, 4 ALARM, 8 PROPERTY' },
    },
    payloadSize: 16,
  },
  {
    type: 'EventAddResponse',
    command: CMD.EVENT_ADD,
    direction: 'response',
    doc: 'A monitor update: `(type, count, ECA status, subscriptionid | DBR data)`.',
    fields: {
      data: 'dbr',
      data_type: DBR_TYPE,
      data_count: DBR_COUNT,
      status: { from: 'parameter1', doc: 'ECA status (p1)' },
      subscriptionid: 'parameter2',
      metadata: 'dbr',
    },
  },
  {
    type: 'EventCancelRequest',
    command: CMD.EVENT_CANCEL,
    direction: 'request',
    oneWay: true,
    doc: '`(type, count, sid, subscriptionid)`, copies of the EVENT_ADD.',
    fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', subscriptionid: 'parameter2' },
  },
  {
    type: 'EventCancelResponse',
    command: CMD.EVENT_ADD,
    direction: 'response',
    emptyPayload: true,
    doc: "The server's final, empty EVENT_ADD reply confirming an EVENT_CANCEL (RSRV echoes type, count and SID).",
    fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', subscriptionid: 'parameter2' },
  },
  {
    type: 'ReadRequest',
    command: CMD.READ,
    direction: 'request',
    doc: 'Legacy READ `(type, count, sid, ioid)`.',
    fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', ioid: 'parameter2' },
  },
  {
    type: 'ReadResponse',
    command: CMD.READ,
    direction: 'response',
    doc: 'Legacy READ reply: RSRV puts the CID in p1.',
    fields: { data: 'dbr', data_type: DBR_TYPE, data_count: DBR_COUNT, cid: 'parameter1', ioid: 'parameter2', metadata: 'dbr' },
  },
  {
    type: 'ReadNotifyRequest',
    command: CMD.READ_NOTIFY,
    direction: 'request',
    doc: '`(type, count, sid, ioid)`.',
    fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', ioid: 'parameter2' },
  },
  {
    type: 'ReadNotifyResponse',
    command: CMD.READ_NOTIFY,
    direction: 'response',
    doc: '`(type, count, ECA status, ioid | DBR data)`.',
    fields: {
      data: 'dbr',
      data_type: DBR_TYPE,
      data_count: DBR_COUNT,
      status: { from: 'parameter1', doc: 'ECA status (p1; the community document calls it SID)' },
      ioid: 'parameter2',
      metadata: 'dbr',
    },
  },
  {
    type: 'WriteRequest',
    command: CMD.WRITE,
    direction: 'request',
    oneWay: true,
    doc: 'Plain put `(type, count, sid, cid | DBR data)`: libca puts the channel\'s CID in p2 (the document says IOID).',
    fields: { data: 'dbr', data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', cid: 'parameter2', metadata: 'dbr' },
  },
  {
    type: 'WriteNotifyRequest',
    command: CMD.WRITE_NOTIFY,
    direction: 'request',
    doc: '`(type, count, sid, ioid | DBR data)`.',
    fields: { data: 'dbr', data_type: DBR_TYPE, data_count: DBR_COUNT, sid: 'parameter1', ioid: 'parameter2', metadata: 'dbr' },
  },
  {
    type: 'WriteNotifyResponse',
    command: CMD.WRITE_NOTIFY,
    direction: 'response',
    doc: '`(type, count, ECA status, ioid)`, no payload.',
    fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, status: 'parameter1', ioid: 'parameter2' },
  },
  { type: 'EventsOffRequest', command: CMD.EVENTS_OFF, direction: 'request', oneWay: true, doc: 'All-zero header: the client is not keeping up.', fields: {} },
  { type: 'EventsOnRequest', command: CMD.EVENTS_ON, direction: 'request', oneWay: true, doc: 'All-zero header: the client has caught up.', fields: {} },
  { type: 'ReadSyncRequest', command: CMD.READ_SYNC, direction: 'request', doc: 'All-zero header.', fields: {} },
  { type: 'ReadSyncResponse', command: CMD.READ_SYNC, direction: 'response', doc: 'RSRV echoes the all-zero header.', fields: {} },
  { type: 'EchoRequest', command: CMD.ECHO, direction: 'request', doc: 'All-zero header.', fields: {} },
  { type: 'EchoResponse', command: CMD.ECHO, direction: 'response', doc: 'All-zero header, sent at once.', fields: {} },
  {
    type: 'ErrorResponse',
    command: CMD.ERROR,
    direction: 'response',
    oneWay: true,
    doc: '`(0, 0, cid, ECA status | offending request header (16 or 24 bytes) + text + NUL)`.',
    fields: {
      cid: { from: 'parameter1', doc: "the channel's CID, the search id, or 0xFFFFFFFF" },
      status: { from: 'parameter2', doc: 'ECA status (p2)' },
      request: 'error-header',
      message: { from: 'error-text', doc: "the server's text after the embedded header" },
    },
  },
  {
    type: 'ClearChannelRequest',
    command: CMD.CLEAR_CHANNEL,
    direction: 'request',
    doc: '`(0, 0, sid, cid)`.',
    fields: { sid: 'parameter1', cid: 'parameter2' },
  },
  {
    type: 'ClearChannelResponse',
    command: CMD.CLEAR_CHANNEL,
    direction: 'response',
    doc: 'RSRV echoes the request header `(0, 0, sid, cid)`.',
    fields: { sid: 'parameter1', cid: 'parameter2' },
  },
  {
    type: 'Beacon',
    command: CMD.RSRV_IS_UP,
    direction: 'response',
    oneWay: true,
    doc: 'RSRV_IS_UP `(server minor, server TCP port, beacon id, address)`. The address is 0 from current RSRV; the caRepeater fills in the source.',
    fields: {
      version: DBR_TYPE,
      server_port: { from: DBR_COUNT, doc: '0 from very old servers means 5064' },
      beacon_id: 'parameter1',
      address: { ip: 'parameter2' },
    },
    defaults: { address: 0 },
  },
  {
    type: 'RepeaterConfirmResponse',
    command: CMD.REPEATER_CONFIRM,
    direction: 'response',
    oneWay: true,
    doc: '`(0, 0, 0, address the repeater saw the client at)`.',
    fields: { repeater_address: { ip: 'parameter2' } },
  },
  {
    type: 'RepeaterRegisterRequest',
    command: CMD.REPEATER_REGISTER,
    direction: 'request',
    oneWay: true,
    doc: 'Registration with the caRepeater `(0, 0, 0, client address)`; libca on Linux sends it as an empty datagram (then every field is 0).',
    fields: { client_address: { ip: 'parameter2' } },
    facts: { empty: ['boolean', 'this.headerSize === 0', 'true for the zero-length datagram form'] },
  },
  {
    type: 'CreateChanRequest',
    command: CMD.CREATE_CHAN,
    direction: 'request',
    doc: '`(0, 0, cid, client minor | PV name)`.',
    fields: { name: 'text', cid: 'parameter1', version: { from: 'parameter2', doc: 'client minor version (p2)' } },
  },
  {
    type: 'CreateChanResponse',
    command: CMD.CREATE_CHAN,
    direction: 'response',
    doc: '`(native DBR type, native count, cid, sid)`.',
    fields: {
      data_type: { from: DBR_TYPE, doc: 'native DBR type and element count of the channel' },
      data_count: DBR_COUNT,
      cid: 'parameter1',
      sid: 'parameter2',
    },
  },
  { type: 'ClientNameRequest', command: CMD.CLIENT_NAME, direction: 'request', oneWay: true, doc: '`(0, 0, 0, 0 | user name)`.', fields: { name: 'text' } },
  { type: 'HostNameRequest', command: CMD.HOST_NAME, direction: 'request', oneWay: true, doc: '`(0, 0, 0, 0 | host name)`.', fields: { name: 'text' } },
  {
    type: 'AccessRightsResponse',
    command: CMD.ACCESS_RIGHTS,
    direction: 'response',
    oneWay: true,
    doc: '`(0, 0, cid, rights)`.',
    fields: { cid: 'parameter1', access_rights: { from: 'parameter2', doc: 'bit 0 read, bit 1 write' } },
  },
  {
    type: 'CreateChFailResponse',
    command: CMD.CREATE_CH_FAIL,
    direction: 'response',
    oneWay: true,
    doc: '`(0, 0, cid, 0)`: the name does not resolve on this circuit.',
    fields: { cid: 'parameter1' },
  },
  {
    type: 'ServerDisconnResponse',
    command: CMD.SERVER_DISCONN,
    direction: 'response',
    oneWay: true,
    doc: '`(0, 0, cid, 0)`: the server destroyed the channel (PCAS only).',
    fields: { cid: 'parameter1' },
  },
];

/**
 * Obsolete commands: named, shown raw by one class (ObsoleteMessage) whose type
 * is the name + 'Request' or 'Response'; a code past the table is `Command<code>`.
 */
export const OBSOLETE = {
  names: { [CMD.SNAPSHOT]: 'Snapshot', [CMD.BUILD]: 'Build', [CMD.READ_BUILD]: 'ReadBuild', [CMD.SIGNAL]: 'Signal' } as Readonly<Record<number, string>>,
  fields: { data_type: DBR_TYPE, data_count: DBR_COUNT, parameter1: 'parameter1', parameter2: 'parameter2' } as MessageSpec['fields'],
  doc: 'Obsolete commands (SNAPSHOT 5, BUILD 7, READ_BUILD 16, SIGNAL 25) and codes past 27: named, shown raw.',
};

/** Where a field spec says the value is. */
export function sourceOf(spec: FieldSpec): FieldSource {
  return typeof spec === 'object' && 'from' in spec ? spec.from : spec;
}

/** The note a field spec carries, if any. */
export function docOf(spec: FieldSpec): string | undefined {
  return typeof spec === 'object' && 'from' in spec ? spec.doc : undefined;
}
