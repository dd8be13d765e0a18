// Where the shared corpus lives (beside the repo) and how tests collect events from a capture.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaEvent } from '../../src/dissect/event.js';
import type { DissectOptions } from '../../src/dissect/options.js';
import { runDissection, type DissectResult } from '../../src/dissect/run.js';
import type { CaptureSource } from '../../src/capture/source.js';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const HAVE_SHARED = existsSync(join(SHARED, 'corpus'));
export const REAL = join(SHARED, 'corpus/real');
export const PUBLIC = join(SHARED, 'corpus/public');
/** caput.pcap's WriteNotify pairs in order: PV and outcome (its sidecar: two puts refused with ECA_PUTFAIL). */
export const CAPUT_WRITE_OUTCOMES: readonly string[] = [
  'TEST:ao ECA_NORMAL',
  'TEST:longout ECA_NORMAL',
  'TEST:mbbo ECA_NORMAL',
  'TEST:disabled ECA_PUTFAIL',
  'TEST:ao ECA_PUTFAIL',
  'TEST:mbbo ECA_NORMAL',
];

export const SKIP_REASON = `../shared/corpus not found at ${SHARED}: corpus tests skipped`;

if (!HAVE_SHARED) console.warn(SKIP_REASON);

export async function collectEvents(source: CaptureSource, options: DissectOptions = {}): Promise<{ events: CaEvent[]; result: DissectResult }> {
  const events: CaEvent[] = [];
  const result = await runDissection(source, options, (ev) => events.push(ev));
  return { events, result };
}
