// CA command codes and header sizes (ca-protocol-notes §2, §4).

export const CMD = {
  VERSION: 0,
  EVENT_ADD: 1,
  EVENT_CANCEL: 2,
  READ: 3,
  WRITE: 4,
  SNAPSHOT: 5,
  SEARCH: 6,
  BUILD: 7,
  EVENTS_OFF: 8,
  EVENTS_ON: 9,
  READ_SYNC: 10,
  ERROR: 11,
  CLEAR_CHANNEL: 12,
  RSRV_IS_UP: 13,
  NOT_FOUND: 14,
  READ_NOTIFY: 15,
  READ_BUILD: 16,
  REPEATER_CONFIRM: 17,
  CREATE_CHAN: 18,
  WRITE_NOTIFY: 19,
  CLIENT_NAME: 20,
  HOST_NAME: 21,
  ACCESS_RIGHTS: 22,
  ECHO: 23,
  REPEATER_REGISTER: 24,
  SIGNAL: 25,
  CREATE_CH_FAIL: 26,
  SERVER_DISCONN: 27,
} as const;

export const MAX_COMMAND = 27;

export const COMMAND_NAMES: readonly string[] = Object.keys(CMD);

export const HEADER_SIZE = 16;
export const EXTENDED_HEADER_SIZE = 24;

/** payload_size value that, with data_count 0, announces the 24-byte header. */
export const EXTENDED_MARKER = 0xffff;

/** p1 of a search reply meaning "connect to the datagram's source address". */
export const ANY_ADDRESS = 0xffffffff;

/** SEARCH request data_type values. */
export const DONT_REPLY = 5;
export const DO_REPLY = 10;

export const DEFAULT_SERVER_PORT = 5064;
export const DEFAULT_REPEATER_PORT = 5065;

/** Commands that carry a DBR payload described by data_type/data_count. */
export function carriesDbr(command: number): boolean {
  return (
    command === CMD.EVENT_ADD ||
    command === CMD.READ ||
    command === CMD.WRITE ||
    command === CMD.READ_NOTIFY ||
    command === CMD.WRITE_NOTIFY
  );
}
