// The tables of a `cawire export` dataset: one folder per table, Hive-partitioned
// by capture host label and hour (messages/host=ioc-gw1/hour=2026-12-03T09/part-….parquet).
// This list is the schema: the Parquet writer takes its column types from it, and
// docs/dataset-schema.md is generated from it (test/export/schema.test.ts holds the
// two to the same text). Types are ones Spark, Trino, DuckDB, pandas and Polars
// all read: no unsigned integers, timestamps in nanoseconds (UTC), strings UTF-8.

/**
 * A column's type: timestamp = INT64 TIMESTAMP(NANOS) holding UTC (written with
 * isAdjustedToUTC false: DuckDB then reads TIMESTAMP_NS, keeping the nanoseconds,
 * where a UTC-adjusted one is read as a microsecond TIMESTAMPTZ); int32/int64 signed; string UTF-8.
 */
export type ColumnType = 'timestamp' | 'int64' | 'int32' | 'double' | 'string' | 'boolean';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** null allowed (a required column has a value in every row) */
  nullable: boolean;
  doc: string;
}

export type TableName = 'messages' | 'pairs' | 'circuits' | 'searches' | 'beacons' | 'stalls' | 'subscriptions';

export interface TableSpec {
  name: TableName;
  doc: string;
  /** what a row's hour partition is the hour of */
  hourOf: string;
  columns: readonly ColumnSpec[];
}

/** The partition columns DuckDB/Spark/Trino add from the folder names (strings). */
export const PARTITION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'host', type: 'string', nullable: false, doc: 'capture host label (--host-label; default the exporting machine\'s host name)' },
  { name: 'hour', type: 'string', nullable: false, doc: "UTC hour, '2026-12-03T09'" },
];

const req = (name: string, type: ColumnType, doc: string): ColumnSpec => ({ name, type, nullable: false, doc });
const opt = (name: string, type: ColumnType, doc: string): ColumnSpec => ({ name, type, nullable: true, doc });

/** Columns every table starts with: the capture file the row comes from. */
const FILE = req('file', 'string', "capture file name (no directory; '-' for stdin); with rotated files read as one capture, the piece");

export const TABLES: readonly TableSpec[] = [
  {
    name: 'messages',
    doc: 'one row per CA message (what `cawire print` prints, one line each)',
    hourOf: 'time',
    columns: [
      req('time', 'timestamp', 'capture time of the packet that completed the message'),
      req('frame', 'int64', 'frame number (rotated files read as one capture: numbered on, as mergecap -a numbers them)'),
      FILE,
      req('transport', 'string', "'tcp' or 'udp'"),
      req('src', 'string', 'source IPv4 address'),
      req('sport', 'int32', 'source port'),
      req('dst', 'string', 'destination IPv4 address'),
      req('dport', 'int32', 'destination port'),
      opt('circuit', 'int32', "TCP circuit id (as `cawire circuits` numbers them); null for UDP"),
      req('direction', 'string', "'request' (client to server) or 'response'"),
      req('type', 'string', "message class as caproto and `cawire print` name it ('ReadNotifyResponse')"),
      req('code', 'int32', 'CA command code'),
      opt('pv', 'string', 'PV name the message concerns, when known'),
      req('size', 'int64', 'bytes on the wire: header and payload'),
      req('payload_size', 'int64', 'header payload size'),
      req('data_type', 'int32', 'header data type field (the DBR type for data messages)'),
      req('data_count', 'int64', 'header data count field'),
      req('parameter1', 'int64', 'header parameter 1 (cid, sid, status …, by command)'),
      req('parameter2', 'int64', 'header parameter 2 (ioid, subscription id, …, by command)'),
      opt('status', 'int32', 'ECA status code of responses that carry one'),
      opt('value', 'double', 'first element of a numeric DBR payload (the value of a scalar)'),
      opt('value_text', 'string', 'first element of a string DBR payload'),
      opt('elements', 'string', 'the first 8 elements of a DBR payload, space-separated (strings: |-separated)'),
      opt('epics_time', 'timestamp', 'EPICS time stamp of a DBR_TIME payload (converted to Unix time)'),
      opt('severity', 'int32', 'alarm severity of a DBR_STS/TIME/GR/CTRL payload'),
      opt('alarm_status', 'int32', 'alarm status of such a payload'),
    ],
  },
  {
    name: 'pairs',
    doc: 'every request/response pair `cawire latency --kind all` makes (`--raw` lists the answered ones), and the requests left unanswered',
    hourOf: 'request_time',
    columns: [
      FILE,
      req('kind', 'string', 'search, handshake, create, read, write, subscribe, echo (latency --kind)'),
      opt('pv', 'string', 'PV name'),
      req('client', 'string', 'client ip:port'),
      req('server', 'string', "server ip:port (searches: the address the reply names; unanswered requests may have '')"),
      opt('circuit', 'int32', 'TCP circuit id (null for UDP searches)'),
      req('request_time', 'timestamp', 'request capture time'),
      opt('response_time', 'timestamp', 'response capture time (null when unanswered)'),
      req('request_frame', 'int64', 'frame of the request'),
      opt('response_frame', 'int64', 'frame of the response (null when unanswered)'),
      opt('latency_ms', 'double', 'response time minus request time, in ms (null when unanswered)'),
      req('outcome', 'string', "'ok', an ECA code name, 'NotFound' …; for unanswered requests the reason (timeout, circuit-closed, end-of-capture …)"),
      req('unanswered', 'boolean', 'no response in the capture'),
    ],
  },
  {
    name: 'circuits',
    doc: 'one row per TCP virtual circuit, as `cawire circuits` lists them',
    hourOf: 'start',
    columns: [
      FILE,
      req('circuit', 'int32', 'circuit id'),
      req('client', 'string', 'client ip:port'),
      req('server', 'string', 'server ip:port'),
      opt('host_name', 'string', 'host name the client sent'),
      opt('user_name', 'string', 'user name the client sent'),
      opt('client_version', 'int32', 'CA minor version of the client'),
      opt('server_version', 'int32', 'CA minor version of the server'),
      opt('priority', 'int32', 'circuit priority'),
      req('start', 'timestamp', 'SYN time when captured, else the first packet seen'),
      opt('start_frame', 'int64', "the SYN's frame, else the first CA message's"),
      opt('end', 'timestamp', 'FIN/RST time (null while open at the end of the capture)'),
      opt('end_frame', 'int64', 'FIN/RST frame'),
      req('last_seen', 'timestamp', 'last packet seen'),
      opt('handshake_ms', 'double', 'SYN to SYN-ACK, ms'),
      req('ca_bytes_to_server', 'int64', 'CA bytes the client sent'),
      req('ca_bytes_to_client', 'int64', 'CA bytes the server sent'),
      req('tcp_bytes_to_server', 'int64', 'TCP segment bytes the client sent'),
      req('tcp_bytes_to_client', 'int64', 'TCP segment bytes the server sent'),
      req('channels_created', 'int32', 'channels created'),
      req('channels_cleared', 'int32', 'channels cleared'),
      req('create_failed', 'int32', 'channel creations that failed'),
      req('subscriptions', 'int32', 'subscriptions made'),
      req('cancelled', 'int32', 'subscriptions cancelled'),
      req('updates', 'int64', 'monitor updates'),
      req('echo_requests', 'int32', 'echo requests'),
      req('echo_responses', 'int32', 'echo responses'),
      req('retransmissions', 'int64', 'TCP retransmissions, both directions'),
      req('capture_gaps', 'int64', 'holes the capture never filled (bytes it missed), both directions'),
      req('zero_window_stalls', 'int32', 'zero-window stalls'),
      opt('ended_by', 'string', "'fin', 'rst', or null while open"),
      opt('rst_by', 'string', "'client' or 'server' when reset"),
    ],
  },
  {
    name: 'searches',
    doc: 'one row per PV name searched for, as `cawire searches` lists them',
    hourOf: 'first_seen',
    columns: [
      FILE,
      req('pv', 'string', 'PV name searched for'),
      req('searches', 'int64', 'search requests, every client and retry counted'),
      req('clients', 'int32', 'client sockets that searched'),
      req('first_seen', 'timestamp', 'first search'),
      req('first_frame', 'int64', 'its frame'),
      req('last_seen', 'timestamp', 'last search'),
      req('last_frame', 'int64', 'its frame'),
      req('servers', 'int32', 'servers that answered (0: never found; over 1: a duplicate PV)'),
      opt('answered_by', 'string', 'the servers that answered, space-separated ip:port'),
      req('replies', 'int64', 'search replies'),
    ],
  },
  {
    name: 'beacons',
    doc: 'one row per beaconing server, as `cawire beacons` lists them',
    hourOf: 'first_seen',
    columns: [
      FILE,
      req('server', 'string', 'server ip:port'),
      req('version', 'int32', 'CA minor version in the beacons'),
      req('beacons', 'int64', 'beacons counted (copies merged)'),
      req('copies', 'int64', 'copies merged'),
      req('first_seen', 'timestamp', 'first beacon'),
      req('first_frame', 'int64', 'its frame'),
      req('last_seen', 'timestamp', 'last beacon'),
      req('last_frame', 'int64', 'its frame'),
      req('missed', 'int64', 'beacon ids skipped'),
      req('restarts', 'int32', 'sequence restarts (server restarts)'),
      req('silences', 'int32', 'silences longer than --silence (default 30 s)'),
      req('anomalies', 'int32', 'beacon anomalies libca would act on'),
    ],
  },
  {
    name: 'stalls',
    doc: 'one row per flow-control stall (a receive window at zero), as `cawire tcp` lists them',
    hourOf: 'start',
    columns: [
      FILE,
      req('circuit', 'int32', 'circuit id (as `cawire circuits` numbers them)'),
      req('client', 'string', 'client ip:port'),
      req('server', 'string', 'server ip:port'),
      req('side', 'string', "whose receive window was closed: 'client' or 'server'"),
      req('start', 'timestamp', 'its first zero-window advertisement'),
      req('start_frame', 'int64', 'frame of that advertisement'),
      opt('end', 'timestamp', 'the window update that reopened it (null: never in the capture)'),
      opt('end_frame', 'int64', 'frame of that window update'),
      req('duration_s', 'double', 'to the window update, or to the circuit\'s last packet when it never reopened'),
      req('probes', 'int32', 'zero-window probes the other side sent'),
      req('zero_window_advertisements', 'int32', 'zero-window segments the side sent'),
      opt('waiting_bytes', 'int64', 'bytes the other side sent from the reopening until all were acknowledged (the backlog)'),
      opt('held_pvs', 'string', 'PVs whose updates were held back, space-separated'),
    ],
  },
  {
    name: 'subscriptions',
    doc: 'one row per subscription (monitor), as `cawire monitors` lists them',
    hourOf: 'first',
    columns: [
      FILE,
      req('circuit', 'int32', 'circuit id (as `cawire circuits` numbers them)'),
      req('client', 'string', 'client ip:port'),
      req('server', 'string', 'server ip:port'),
      req('pv', 'string', "PV name ('?' when the subscription's request is not in the capture)"),
      req('subscription_id', 'int64', 'subscription id (the EVENT_ADD parameter 2)'),
      req('data_type', 'int32', 'DBR type asked for'),
      req('data_count', 'int64', 'element count asked for'),
      opt('mask', 'int32', 'event mask (value, log, alarm, property)'),
      req('cancelled', 'boolean', 'the client cancelled it'),
      req('updates', 'int64', 'monitor updates'),
      req('bytes', 'int64', 'CA bytes of the updates (header and payload)'),
      req('first', 'timestamp', 'first update'),
      req('first_frame', 'int64', 'frame of the first update'),
      req('last', 'timestamp', 'last update'),
      req('last_frame', 'int64', 'frame of the last update'),
      req('rate_hz', 'double', 'mean rate: (updates - 1) / seconds from first to last'),
      opt('longest_gap_s', 'double', 'longest time between two updates'),
      opt('longest_gap_from_frame', 'int64', 'frame of the update before that gap'),
      opt('longest_gap_to_frame', 'int64', 'frame of the update after it'),
      req('stalls', 'int32', 'gaps much longer than the usual interval (`monitors --gap`, default 5x)'),
      opt('stall_causes', 'string', "the listed stalls' causes, comma-separated ('zero window', 'events off', 'capture gap', 'server silent', 'none seen')"),
    ],
  },
];

export function tableSpec(name: TableName): TableSpec {
  return TABLES.find((t) => t.name === name)!;
}

/** How DuckDB's DESCRIBE names each type (the schema test reads the files back with it). */
export const DUCKDB_TYPES: Record<ColumnType, string> = {
  timestamp: 'TIMESTAMP_NS',
  int64: 'BIGINT',
  int32: 'INTEGER',
  double: 'DOUBLE',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
};

/** The Parquet physical and logical type of each (what docs/dataset-schema.md names). */
export const PARQUET_TYPES: Record<ColumnType, string> = {
  timestamp: 'INT64 TIMESTAMP(NANOS), UTC',
  int64: 'INT64',
  int32: 'INT32',
  double: 'DOUBLE',
  string: 'BYTE_ARRAY STRING (UTF-8)',
  boolean: 'BOOLEAN',
};

/** docs/dataset-schema.md: the tables and their columns, from TABLES. */
export function schemaMarkdown(): string {
  const lines = [
    '# The `cawire export` dataset',
    '',
    '<!-- generated from src/export/schema.ts (schemaMarkdown); test/export/schema.test.ts checks it -->',
    '',
    'One folder per table, Hive-partitioned by capture host and UTC hour:',
    '`DIR/TABLE/host=LABEL/hour=YYYY-MM-DDTHH/part-KEY-RUN-N.parquet`. The partition columns',
    '`host` and `hour` are strings, read from the folder names. Files are Parquet written by',
    'hyparquet-writer (ZSTD where Node has it, else Snappy). Timestamps are nanoseconds since the Unix',
    'epoch in UTC, marked as not adjusted to UTC so that DuckDB keeps the nanoseconds (TIMESTAMP_NS);',
    'Spark reads them with spark.sql.legacy.parquet.nanosAsLong=true, Trino as timestamp(9).',
    '',
  ];
  for (const t of TABLES) {
    lines.push(`## ${t.name}`, '', `${t.doc[0]!.toUpperCase()}${t.doc.slice(1)}. Partitioned by the hour of \`${t.hourOf}\`.`, '', '| column | type | null | meaning |', '|---|---|---|---|');
    for (const c of t.columns) lines.push(`| ${c.name} | ${PARQUET_TYPES[c.type]} | ${c.nullable ? 'yes' : 'no'} | ${c.doc.replaceAll('|', '\\|')} |`);
    lines.push('');
  }
  return lines.join('\n');
}
