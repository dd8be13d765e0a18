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


/** The first and last message of a span: `last` is the span's own object, moved on in place (no allocation per message). */
export interface Span {
  first?: Moment;
  last?: Moment;
}

export function extendSpan(span: Span, ev: CaEvent): void {
  extendSpanAt(span, ev.tsSec, ev.tsNsec, ev.timestamp, ev.frame);
}

/** extendSpan for a message known by its capture time and frame (DissectOptions.declined). */
export function extendSpanAt(span: Span, sec: number, nsec: number, time: number, frame: number): void {
  const last = span.last;
  if (!last) {
    span.first = { sec, nsec, time, frame };
    span.last = { sec, nsec, time, frame };
    return;
  }
  last.sec = sec;
  last.nsec = nsec;
  last.time = time;
  last.frame = frame;
}
