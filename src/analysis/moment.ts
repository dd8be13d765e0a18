// Where a report row points into the capture: the exact capture time and the
// frame number to open in Wireshark. Reports keep these instead of events, so
// they do not hold on to the capture's buffers.

import type { CaEvent } from '../dissect/event.js';

export interface Moment {
  /** capture time: Unix seconds and nanoseconds (exact, for printing) */
  sec: number;
  nsec: number;
  /** the same as float seconds (for arithmetic) */
  time: number;
  /** 1-based frame number */
  frame: number;
}

export function momentOf(ev: CaEvent): Moment {
  return { sec: ev.tsSec, nsec: ev.tsNsec, time: ev.timestamp, frame: ev.frame };
}

