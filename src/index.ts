// The cawire library: `import { dissect } from 'cawire'`.

export { dissect, runDissection, Dissection, type DissectResult, type RunHooks } from './dissect/run.js';
export { Dissector, type CircuitListener } from './dissect/dissector.js';
export { CaEvent, CaEventBase, type CaEventOf, type Transport } from './dissect/event.js';
export { TcpCircuit } from './dissect/circuits.js';
export { type DissectOptions } from './dissect/options.js';
export { type DissectStats, skippedSummary } from './dissect/stats.js';
export { eventFilter, type EventFilterSpec } from './dissect/filter.js';
export { CaptureParser } from './capture/reader.js';
export { captureChunks, readCapture, type CaptureChunkOptions, type CaptureSource } from './capture/source.js';
export { CaptureError, type CaptureStats, type PacketSink } from './capture/types.js';
export * from '../protocols/ca/messages.js';
export { CircuitState, type Channel, type Subscription } from '../protocols/ca/circuit.js';
export { CMD, COMMAND_NAMES } from '../protocols/ca/constants.js';
export { decodeDbr, encodeDbr, dbrTypeName, type DbrValue, type DbrMetadata } from '../protocols/ca/dbr.js';
export { ecaName, ecaDescription, ecaIsSuccess } from '../protocols/ca/eca.js';
export { alarmSeverityName, alarmStatusName } from '../protocols/ca/alarm.js';
export { epicsTimeToIso, epicsToUnixSeconds } from '../protocols/ca/time.js';
export { formatCommand } from './output/values.js';
export { compileTemplate } from './output/template.js';
export { eventToJson, eventRecord } from './output/json.js';
export { latency, recordsToDataFrame, groupKey, type LatencyOptions, type LatencyResult, type GroupBy } from './analysis/latency.js';
export { Pairer, PAIR_KINDS, type PairKind, type PairRecord, type Unanswered, type PairerOptions } from './analysis/pairing.js';
export { type LatencyStats } from './analysis/latency-stats.js';
export { SearchAnalysis } from './analysis/searches.js';
export { BeaconAnalysis } from './analysis/beacons.js';
export { CircuitAnalysis } from './analysis/circuits.js';
export { SummaryAnalysis } from './analysis/summary.js';
