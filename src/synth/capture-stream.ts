// A scenario as a capture file: its packets in the link framing asked for,
// written by CaptureWriter into a Readable that generates only as fast as it
// is read (so memory stays flat however large the capture), optionally cut at
// a file size, plus the truth file that goes beside it.

import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CaptureWriter, type CaptureWriterOptions } from './capture-writer.js';
import { linkFrame } from './frames.js';
import { Scenario, type ScenarioOptions } from './scenario.js';
import { formatTruth, type TruthReport } from './truth.js';

export const LINK_TYPES = { ethernet: 1, sll: 113, sll2: 276, null: 0, raw: 101 } as const;
export type LinkName = keyof typeof LINK_TYPES;

export interface SynthCaptureOptions {
  scenario: Partial<ScenarioOptions>;
  format: CaptureWriterOptions['format'];
  byteOrder?: 'le' | 'be';
  precision?: 'us' | 'ns';
  link?: LinkName;
  /** stop at the first 1 MiB output chunk that brings the file to this size */
  maxBytes?: number;
}

export interface SynthTruth extends TruthReport {
  file: { format: string; byteOrder: string; precision: string; link: LinkName; bytes: number };
}

export class SynthCapture extends Readable {
  private readonly scenario: Scenario;
  private readonly writer: CaptureWriter;
  private readonly ready: Buffer[] = [];
  private bytes = 0;
  private done = false;

  constructor(private readonly opts: SynthCaptureOptions) {
    super();
    const linkType = LINK_TYPES[opts.link ?? 'ethernet'];
    const writer = (this.writer = new CaptureWriter({ format: opts.format, byteOrder: opts.byteOrder, precision: opts.precision, linkType }, (chunk) => {
      this.ready.push(chunk);
      this.bytes += chunk.length;
    }));
    this.scenario = new Scenario(opts.scenario, (sec, nsec, ip) => writer.writePacket(sec, nsec, linkFrame(linkType, ip)));
  }

  override _read(): void {
    const limit = this.opts.maxBytes ?? Infinity;
    while (this.ready.length === 0 && !this.done) {
      const finished = this.scenario.run(() => this.ready.length > 0 || this.bytes >= limit);
      if (finished || this.bytes >= limit) {
        this.done = true;
        this.writer.flush();
      }
    }
    for (const chunk of this.ready.splice(0)) this.push(chunk);
    if (this.done) this.push(null);
  }

  /** What was written; complete once the stream has ended. */
  truth(): SynthTruth {
    const o = this.opts;
    return {
      ...this.scenario.truth(),
      file: {
        format: o.format,
        byteOrder: o.byteOrder ?? 'le',
        precision: o.precision ?? 'us',
        link: o.link ?? 'ethernet',
        bytes: this.bytes,
      },
    };
  }
}

/** Writes the capture to `out` (a path, or a stream such as stdout) and, if given, the truth file. */
export async function writeSynthCapture(opts: SynthCaptureOptions, out: string | Writable, truthPath?: string): Promise<SynthTruth> {
  const capture = new SynthCapture(opts);
  await pipeline(capture, typeof out === 'string' ? createWriteStream(out) : out);
  const truth = capture.truth();
  if (truthPath) await writeFile(truthPath, formatTruth(truth));
  return truth;
}
