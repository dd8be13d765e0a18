// Who is the client on a TCP connection whose handshake was not captured
// (ca-protocol-notes §5.2 step 3): messages only one side ever sends.

import { CMD, HEADER_SIZE } from './constants.js';
import { readHeader, type HeaderView } from './framing.js';

/**
 * Looks at the CA messages at the start of a payload and says whether its sender
 * is a client or a server, or undefined when nothing in it tells.
 */
export function senderRoleFromContent(buf: Buffer, off: number, len: number): 'client' | 'server' | undefined {
  const end = off + len;
  const h: HeaderView = { command: 0, payloadSize: 0, dataType: 0, dataCount: 0, headerSize: 0 };
  let client = 0;
  let server = 0;
  for (let p = off, n = 0; n < 32 && p + HEADER_SIZE <= end; n++) {
    if (!readHeader(buf, p, end, h) || h.command > 27 || (h.payloadSize & 7) !== 0) break;
    switch (h.command) {
      case CMD.EVENT_CANCEL:
      case CMD.WRITE:
      case CMD.EVENTS_OFF:
      case CMD.EVENTS_ON:
      case CMD.CLIENT_NAME:
      case CMD.HOST_NAME:
        client++;
        break;
      case CMD.ERROR:
      case CMD.ACCESS_RIGHTS:
      case CMD.CREATE_CH_FAIL:
      case CMD.SERVER_DISCONN:
        server++;
        break;
      case CMD.CREATE_CHAN:
      case CMD.SEARCH:
        if (h.payloadSize > 0) client++;
        else server++;
        break;
      case CMD.READ_NOTIFY:
        // requests carry no payload; replies carry data
        if (h.payloadSize === 0) client++;
        else server++;
        break;
      case CMD.WRITE_NOTIFY:
        if (h.payloadSize > 0) client++;
        else server++;
        break;
    }
    p += h.headerSize + h.payloadSize;
  }
  if (client > server) return 'client';
  if (server > client) return 'server';
  return undefined;
}
