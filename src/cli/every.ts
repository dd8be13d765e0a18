// --every: a report printed again each interval of capture time while the
// capture is read (a live pipe), then once more at its end. The analysis gives a
// snapshot between two messages (runner.ts); it is rendered there, at once, and
// written when the chunk of capture that held it has been read.
//
// Table: each report under a line naming its capture time. CSV and JSON: every
// row begins with `report_at` (that time), and CSV has one header line.

import type { DissectResult } from '../dissect/run.js';
import { LineWriter } from '../output/sink.js';
import { withLeadingColumn, type ReportFormat } from '../output/table.js';
import type { Instant } from '../dissect/circuits.js';
import { formatTime, useCaptureTimes } from '../output/times.js';

export class EveryReport<Input> {
  private readonly out = new LineWriter();
  private csvHeaderWritten = false;

  constructor(
    readonly seconds: number,
    private readonly format: ReportFormat,
    private readonly render: (input: Input) => string,
  ) {}

  /** A snapshot at capture time `at`: rendered now, written at the next flush. */
  snapshot(input: Input, result: DissectResult, at: Instant): void {
    useCaptureTimes([result.capture]);
    const text = this.text(input, at, result.stats.packets, false);
    if (text) this.out.line(text);
  }

  /** Writes the snapshots rendered so far; waits while the reader of stdout is behind. */
  async flush(): Promise<void> {
    this.out.flush();
    await this.out.ready();
  }

  /** The report at the end of the read (at its last packet's time), after the snapshots: the text for stdout. */
  async final(input: Input, result: DissectResult): Promise<string> {
    await this.out.end();
    const { lastSec, lastNsec, packets } = result.stats;
    if (!Number.isFinite(lastSec)) return this.render(input);
    return this.text(input, { sec: lastSec, nsec: lastNsec }, packets, true);
  }

  /** The report at `at`: under its heading (table), or each row beginning with that time (CSV, JSON). */
  private text(input: Input, at: Instant, packets: number, last: boolean): string {
    const time = formatTime(at.sec, at.nsec);
    // A blank line between one table and the next heading.
    if (this.format === 'table') return `-- report at ${last ? 'the end, ' : ''}${time} (capture time), ${packets} packets read --\n${this.render(input)}${last ? '' : '\n'}`;
    const text = withLeadingColumn('report_at', time, () => this.render(input));
    if (this.format !== 'csv') return text;
    // One header line for the whole run: the rows of every report below it.
    if (!this.csvHeaderWritten) {
      this.csvHeaderWritten = true;
      return text;
    }
    const cut = text.indexOf('\n');
    return cut < 0 ? '' : text.slice(cut + 1);
  }
}
