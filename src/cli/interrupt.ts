// Ctrl-C on a report (`tcpdump -U -w - … | cawire summary`): the first SIGINT or
// SIGTERM stops the read, even while it waits on the pipe, and the report is
// printed from what was read (exit 0); a second one ends the process at once.
// `cawire print` does not use this: it prints as it reads, and dies on SIGINT.

/** The signals that stop a report's read. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** Exit status on a second signal: 128 + the signal's number, as a shell reports a process it killed. */
const SECOND_SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `body` with SIGINT and SIGTERM caught: the first aborts `stop` with the
 * signal's name as its reason (runDissection records it as capture.stoppedBy),
 * a second exits at once. The default handling is back once `body` has settled.
 */
export async function stoppedBySignals<T>(body: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: StopSignal): void => {
    if (controller.signal.aborted) process.exit(SECOND_SIGNAL_EXIT[signal]);
    controller.abort(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    return await body(controller.signal);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}
