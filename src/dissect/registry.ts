// The protocol handlers a dissection uses unless DissectOptions.protocols says otherwise, in the order they are asked.

import { caProtocol } from '../../protocols/ca/handler.js';
import { pvaProtocol } from '../../protocols/pva/handler.js';
import type { ProtocolFactory } from './protocol.js';

export const DEFAULT_PROTOCOLS: readonly ProtocolFactory[] = [caProtocol, pvaProtocol];
