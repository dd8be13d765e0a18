// `cawire synth [OUT|-]`: write a synthetic, seeded CA capture (and a truth file
// beside it saying what it holds), of any size, for tests, demos and benchmarks.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { LINK_TYPES, writeSynthCapture, type LinkName, type SynthCaptureOptions } from '../synth/capture-stream.js';
import type { Distribution } from '../synth/random.js';
import { SCENARIO_DEFAULTS, type ScenarioOptions } from '../synth/scenario.js';
import { DESCRIPTIONS } from './commands.js';
import { DURATION_HELP, UsageError, durationOption, runCommand } from './common.js';
import { parseDuration, parseSignedDuration, parseSize } from './units.js';

interface SynthCliOptions {
  seed: number;
  iocs: number;
  clients: number;
  pvs: number;
  unfound: number;
  /** seconds */
  duration?: number;
  rate: number;
  size?: number;
  format: 'pcap' | 'pcapng';
  nanosecond?: boolean;
  bigEndian?: boolean;
  link: LinkName;
  latency?: LatencyOption;
  loss: number;
  reorder: number;
  retransmit: number;
  missedBeacons: number;
  restarts: number;
  mss: number;
  /** Unix seconds */
  start: number;
  truth?: string | false;
  quiet?: boolean;
  /** --vantage client,server: both captures of one world */
  vantage?: string;
  delay?: { up: Distribution; down: Distribution };
  clockOffset?: number;
  nat?: boolean;
}

interface LatencyOption {
  byIoc: Record<string, Distribution>;
  default?: Distribution;
}

const NS_PER_SEC = 1e9;

function integer(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`want a whole number >= ${min}`);
    return n;
  };
}

function probability(v: string): number {
  // '1%' or 0.01
  const p = v.trim().endsWith('%') ? Number(v.trim().slice(0, -1)) / 100 : Number(v);
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError('want a fraction between 0 and 1');
  return p;
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('want a number > 0');
  return n;
}

/** '2ms' (fixed), 'exp:2ms' or 'lognormal:5ms[:sigma]', each given by its median. */
export function parseDistribution(v: string): Distribution {
  const [head, ...rest] = v.split(':');
  const medianNs = (text: string) => Math.round(parseDuration(text, { unitRequired: true }) * NS_PER_SEC);
  if (rest.length === 0) return { kind: 'fixed', medianNs: medianNs(head!) };
  if ((head === 'exp' || head === 'exponential') && rest.length === 1) return { kind: 'exponential', medianNs: medianNs(rest[0]!) };
  if (head === 'lognormal' && rest.length <= 2) {
    const sigma = rest[1] === undefined ? 0.5 : Number(rest[1]);
    if (!(sigma >= 0)) throw new InvalidArgumentError(`lognormal sigma must be >= 0, not '${rest[1]}'`);
    return { kind: 'lognormal', medianNs: medianNs(rest[0]!), sigma };
  }
  throw new InvalidArgumentError(`'${v}' is not a latency: use 2ms, exp:2ms or lognormal:5ms[:sigma]`);
}

/** 'ioc1=2ms,ioc2=lognormal:5ms'; an entry without a name sets the latency of the other IOCs. */
function parseLatency(v: string, prev: LatencyOption = { byIoc: {} }): LatencyOption {
  const out: LatencyOption = { byIoc: { ...prev.byIoc }, default: prev.default };
  for (const entry of v.split(',').filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 0) out.default = parseDistribution(entry);
    else out.byIoc[entry.slice(0, eq).trim()] = parseDistribution(entry.slice(eq + 1));
  }
  return out;
}

/** 'up=2ms,down=lognormal:5ms' (each direction's one-way delay; one not named is 0). */
function parseDelay(v: string): { up: Distribution; down: Distribution } {
  const out = { up: { kind: 'fixed', medianNs: 0 } as Distribution, down: { kind: 'fixed', medianNs: 0 } as Distribution };
  for (const entry of v.split(',').filter(Boolean)) {
    const m = /^\s*(up|down)\s*=(.+)$/.exec(entry);
    if (!m) throw new InvalidArgumentError(`'${entry}' is not a delay: use up=2ms,down=lognormal:5ms`);
    out[m[1] as 'up' | 'down'] = parseDistribution(m[2]!.trim());
  }
  return out;
}

/** demo.pcap -> demo.client.pcap, demo.server.pcap */
export function vantagePaths(out: string): [string, string] {
  const base = out.replace(/\.(pcapng|pcap)$/i, '');
  return [`${base}.client.pcap`, `${base}.server.pcap`];
}

/** The library options the command line stands for. */
export function synthOptions(o: SynthCliOptions): SynthCaptureOptions {
  for (const name of Object.keys(o.latency?.byIoc ?? {})) {
    const n = /^ioc(\d+)$/.exec(name)?.[1];
    if (!n || Number(n) < 1 || Number(n) > o.iocs) throw new UsageError(`--latency names '${name}': the IOCs are ioc1 … ioc${o.iocs}`);
  }
  const scenario: Partial<ScenarioOptions> = {
    seed: o.seed,
    iocs: o.iocs,
    clients: o.clients,
    pvs: o.pvs,
    unfound: o.unfound,
    // a size limit alone runs until the file is big enough
    durationNs: o.duration !== undefined ? Math.round(o.duration * NS_PER_SEC) : o.size !== undefined ? undefined : SCENARIO_DEFAULTS.durationNs,
    rate: o.rate,
    latency: o.latency?.byIoc ?? {},
    defaultLatency: o.latency?.default ?? SCENARIO_DEFAULTS.defaultLatency,
    loss: o.loss,
    reorder: o.reorder,
    retransmit: o.retransmit,
    missedBeacons: o.missedBeacons,
    restarts: o.restarts,
    mss: o.mss,
    startTime: o.start,
  };
  return {
    scenario,
    format: o.format,
    byteOrder: o.bigEndian ? 'be' : 'le',
    precision: o.nanosecond ? 'ns' : 'us',
    link: o.link,
    maxBytes: o.size,
  };
}

/** demo.pcap -> demo.truth.json: the truth file goes beside the capture. */
export function defaultTruthPath(out: string): string {
  return `${out.replace(/\.(pcapng|pcap)$/i, '')}.truth.json`;
}

export function registerSynth(program: Command): void {
  const d = SCENARIO_DEFAULTS;
  program
    .command('synth')
    .description(DESCRIPTIONS.synth)
    .argument('[out]', "capture file to write; '-' or none writes stdout")
    .option('--seed <n>', 'random seed', integer(0), d.seed)
    .option('--iocs <n>', 'IOCs (every second one on an ephemeral TCP port, every third a gateway)', integer(1), d.iocs)
    .option('--clients <n>', 'client hosts (every third runs caget/caput, the others monitor)', integer(1), d.clients)
    .option('--pvs <n>', 'PVs served, spread over the IOCs', integer(1), d.pvs)
    .option('--unfound <n>', 'names that no IOC serves (searched for ever)', integer(0), d.unfound)
    .option('--duration <duration>', 'traffic to simulate (90s, 2m, 1h; bare number = s; default 60s unless --size is given)', durationOption({ positive: true }))
    .option('--rate <n>', 'CA messages per second to aim for (mostly monitor updates)', positive, d.rate)
    .option('--size <size>', 'stop once the file reaches this size (100MB, 1GB, 512KiB)', parseSize)
    .addOption(new Option('--format <format>', 'capture file format').choices(['pcap', 'pcapng']).default('pcap'))
    .option('--nanosecond', 'nanosecond timestamps (µs by default)')
    .option('--big-endian', 'write the file in big-endian byte order')
    .addOption(new Option('--link <type>', 'link-layer framing').choices(Object.keys(LINK_TYPES)).default('ethernet'))
    .option('--latency <spec>', "server latency by median: 'ioc1=2ms,ioc2=lognormal:5ms,exp:1ms' (no name = the other IOCs); repeatable", parseLatency)
    .option('--loss <p>', 'fraction of TCP sends whose last segment the capture misses', probability, d.loss)
    .option('--reorder <p>', 'fraction of multi-segment TCP sends with two segments swapped', probability, d.reorder)
    .option('--retransmit <p>', 'fraction of TCP sends with one segment sent twice', probability, d.retransmit)
    .option('--missed-beacons <p>', 'fraction of beacons the capture misses', probability, d.missedBeacons)
    .option('--restarts <n>', 'IOC restarts, spread over the duration', integer(0), d.restarts)
    .option('--mss <bytes>', 'TCP maximum segment size', integer(64), d.mss)
    .option('--start <unix-seconds>', 'capture start time', integer(0), d.startTime)
    .option('--truth <file>', 'truth file (JSON) to write; default OUT with .truth.json for a file, none for stdout')
    .option('--no-truth', 'write no truth file')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--vantage <points>', "'client,server': write the world as captured beside the clients (OUT.client.pcap) and beside the IOCs (OUT.server.pcap), pcap with ns times, for cawire compare; --loss is then loss between the points")
    .option('--delay <spec>', "with --vantage: one-way delay per direction, 'up=2ms,down=lognormal:5ms' (default 0)", parseDelay)
    .option('--clock-offset <duration>', "with --vantage: the client side's clock minus the server side's (0.3s, -250ms)", parseSignedDuration)
    .option('--nat', "with --vantage: the server side sees the clients' addresses and ports translated (10.0.3.1:20000 …)")
    .addHelpText('after', `\nThe ${DURATION_HELP}: a --latency median refuses a bare number (it was milliseconds).`)
    .action(async (out: string | undefined, o: SynthCliOptions) => {
      await runCommand(program.opts().debug === true, async () => {
        if (o.vantage !== undefined) return await vantage(out, o);
        const toStdout = out === undefined || out === '-';
        if (toStdout && process.stdout.isTTY) throw new UsageError('not writing a binary capture to a terminal: name a file, or pipe stdout on');
        const truthPath = o.truth === false ? undefined : (o.truth ?? (toStdout ? undefined : defaultTruthPath(out!)));
        const truth = await writeSynthCapture(synthOptions(o), toStdout ? process.stdout : out!, truthPath);
        if (!o.quiet) {
          const where = toStdout ? 'stdout' : out;
          const truthNote = truthPath ? `; truth in ${truthPath}` : '';
          process.stderr.write(
            `cawire: wrote ${where}: ${truth.capture.packets} packets, ${truth.messages.total} CA messages, ${truth.file.bytes} bytes, ` +
              `${(truth.capture.lastPacketUs - truth.capture.firstPacketUs) / 1e6} s of traffic${truthNote}\n`,
          );
        }
      });
    });
}

/** --vantage client,server: both captures and the truth of what went between them. */
async function vantage(out: string | undefined, o: SynthCliOptions): Promise<void> {
  if (o.vantage!.replace(/\s/g, '') !== 'client,server') throw new UsageError(`--vantage takes 'client,server', not '${o.vantage}'`);
  if (out === undefined || out === '-') throw new UsageError('--vantage writes two files: name OUT (OUT.client.pcap, OUT.server.pcap)');
  const { writeVantageCaptures } = await import('../synth/vantage.js');
  const [client, server] = vantagePaths(out);
  const truthPath = o.truth === false ? undefined : (o.truth ?? defaultTruthPath(out));
  const base = synthOptions({ ...o, loss: 0 });
  const zero: Distribution = { kind: 'fixed', medianNs: 0 };
  const truth = writeVantageCaptures(
    { scenario: base.scenario, up: o.delay?.up ?? zero, down: o.delay?.down ?? zero, loss: o.loss, clockOffset: o.clockOffset ?? 0, nat: o.nat === true, maxBytes: o.size },
    client,
    server,
    truthPath,
  );
  if (!o.quiet) {
    const d = (t: typeof truth.client_to_server): string => `${t.sent} sent, ${t.lost} lost, delay p50 ${t.owd_ms.p50} ms`;
    process.stderr.write(
      `cawire: wrote ${client} (${truth.files.client.bytes} bytes) and ${server} (${truth.files.server.bytes} bytes); ` +
        `client to server ${d(truth.client_to_server)}; server to client ${d(truth.server_to_client)}${truthPath ? `; truth in ${truthPath}` : ''}\n`,
    );
  }
}
