// The commands besides print: their one-line descriptions, and how to load each.
// `cawire --help` lists them from here without loading their modules (the
// analyses, danfo.js, plotting, the synthesiser), which keeps start-up fast;
// only the command being run is loaded and defined in full.

import type { Command } from 'commander';

export const DESCRIPTIONS = {
  synth: 'write a synthetic CA capture from a seed (same seed, same bytes), with a truth file of what it holds',
  searches: 'search requests per PV name and per client, unanswered and duplicate names, storms (caSnooper from a capture)',
  beacons: 'beacons per server: intervals, missed and restarted sequences, silences, and the anomalies libca and casw see',
  circuits: 'the TCP virtual circuits: who, how long, bytes, channels, subscriptions, probes, losses, how each ended',
  summary: 'one screen: what the capture holds and the problems the other reports find',
  latency: 'pair requests with replies and give latency statistics (ms) per server',
  compare: 'two captures of the same traffic (near the clients, near the servers): clock offset, one-way delay and loss between the points',
  monitors: 'per subscription: updates, rates, stalls and their cause, values the IOC never sent (--sequence), lag behind the IOC time stamps',
  tcp: "what TCP did in each CA circuit: round trips, losses, windows, flow-control stalls and the PVs they held back; --trace one circuit",
  export: 'decode captures into a Parquet dataset (messages, pairs, circuits, searches, beacons) for SQL, Spark, Trino',
  sql: 'run SQL (embedded DuckDB) on an exported dataset, or on captures exported on the fly',
} as const;

export type LazyCommand = keyof typeof DESCRIPTIONS;

/** Each command's module, loaded only when that command runs (or its own help is asked for). */
const LOADERS: Record<LazyCommand, () => Promise<(program: Command) => void>> = {
  synth: async () => (await import('./synth.js')).registerSynth,
  searches: async () => (await import('./reports.js')).registerSearches,
  beacons: async () => (await import('./reports.js')).registerBeacons,
  circuits: async () => (await import('./reports.js')).registerCircuits,
  summary: async () => (await import('./reports.js')).registerSummary,
  latency: async () => (await import('./latency.js')).registerLatency,
  compare: async () => (await import('./compare.js')).registerCompare,
  monitors: async () => (await import('./reports.js')).registerMonitors,
  tcp: async () => (await import('./tcp.js')).registerTcp,
  export: async () => (await import('./export.js')).registerExport,
  sql: async () => (await import('./sql.js')).registerSql,
};

/** The command named on the command line (`cawire X …` or `cawire help X`), if it is one of these. */
function invoked(args: readonly string[]): LazyCommand | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(DESCRIPTIONS, name) ? (name as LazyCommand) : undefined;
}

/** Defines the invoked command in full and the others by name and description only. */
export async function registerLazyCommands(program: Command, args: readonly string[]): Promise<void> {
  const wanted = invoked(args);
  for (const name of Object.keys(DESCRIPTIONS) as LazyCommand[]) {
    if (name === wanted) (await LOADERS[name]())(program);
    else program.command(name).description(DESCRIPTIONS[name]);
  }
}
