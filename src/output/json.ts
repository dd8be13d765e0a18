// One JSON object per CA message (JSON Lines). Numbers stay as on the wire; the
// enumerations also get their names; DBR arrays are written whole.

import { alarmSeverityName, alarmStatusName } from '../../protocols/ca/alarm.js';
import { dbrTypeName, type DbrMetadata } from '../../protocols/ca/dbr.js';
import { ecaName } from '../../protocols/ca/eca.js';
import { accessRightsName, eventMaskNames } from '../../protocols/ca/flags.js';
import type { CaMessage } from '../../protocols/ca/messages.js';
import { epicsTimeToIso, epicsToUnixSeconds } from '../../protocols/ca/time.js';
import type { CaEvent } from '../dissect/event.js';
import { formatIsoTime } from './values.js';

const NAMED: Record<string, (v: number) => string> = {
  data_type: dbrTypeName,
  status: ecaName,
  access_rights: accessRightsName,
  mask: eventMaskNames,
};

function metadataJson(md: DbrMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = { ...md };
  if (md.status !== undefined) out.status_name = alarmStatusName(md.status);
  if (md.severity !== undefined) out.severity_name = alarmSeverityName(md.severity);
  if (md.secPastEpoch !== undefined) {
    const nsec = md.nsec ?? 0;
    out.timestamp = epicsToUnixSeconds(md.secPastEpoch, nsec);
    out.time = epicsTimeToIso(md.secPastEpoch, nsec);
  }
  return out;
}

/** The message's fields as a plain object. */
export function messageFields(m: CaMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rec = m as unknown as Record<string, unknown>;
  for (const f of m.fields) {
    const v = rec[f];
    if (f === 'metadata') out[f] = metadataJson(v as DbrMetadata);
    else out[f] = v;
    const namer = NAMED[f];
    if (namer && typeof v === 'number') out[`${f}_name`] = namer(v);
  }
  return out;
}

export function eventToJson(ev: CaEvent): string {
  return JSON.stringify({
    frame: ev.frame,
    timestamp: ev.timestamp,
    time: formatIsoTime(ev.tsSec, ev.tsNsec),
    transport: ev.transport,
    src: ev.src,
    sport: ev.sport,
    dst: ev.dst,
    dport: ev.dport,
    direction: ev.direction,
    circuit: ev.circuit?.id ?? null,
    pv: ev.pv ?? null,
    command: ev.type,
    code: ev.command.command,
    size: ev.command.size,
    fields: messageFields(ev.command),
  });
}
