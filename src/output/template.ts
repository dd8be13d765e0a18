// User format strings: `--format '{timestamp} {src}:{sport}->{dst}:{dport} {command}'`.
// A template is parsed once into literal text and field readers; nothing in it is
// ever evaluated as code.

import { MESSAGE_FIELDS } from '../../protocols/ca/messages.js';
import type { CaEvent } from '../dissect/event.js';
import { formatCommand, formatField, formatIsoTime, formatTimestamp, safeText } from './values.js';

type Part = string | ((ev: CaEvent) => string);

const TOKENS: Record<string, (ev: CaEvent) => string> = {
  timestamp: (ev) => formatTimestamp(ev.tsSec, ev.tsNsec),
  time: (ev) => formatIsoTime(ev.tsSec, ev.tsNsec),
  frame: (ev) => String(ev.frame),
  src: (ev) => ev.src,
  dst: (ev) => ev.dst,
  sport: (ev) => String(ev.sport),
  dport: (ev) => String(ev.dport),
  transport: (ev) => ev.transport,
  direction: (ev) => ev.direction,
  pv: (ev) => (ev.pv === undefined ? '' : safeText(ev.pv)),
  type: (ev) => ev.type,
  command: (ev) => formatCommand(ev.command),
  code: (ev) => String(ev.command.command),
  size: (ev) => String(ev.command.size),
  circuit: (ev) => (ev.circuit ? String(ev.circuit.id) : ''),
};

export const TEMPLATE_TOKENS: readonly string[] = [...Object.keys(TOKENS), 'file', 'command.FIELD'];

/** Token values that are the same for every event of a run. */
export interface TemplateContext {
  /** {file}: the capture file as given on the command line ('-' for stdin); '' when not given */
  file?: string;
}

export const DEFAULT_TEMPLATE = '{timestamp} {src}:{sport}->{dst}:{dport} {command}';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Compiles a template; throws TemplateError naming an unknown token or an unclosed brace. */
export function compileTemplate(template: string, context: TemplateContext = {}): (ev: CaEvent) => string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      lit += c; // '{{' and '}}' are literal braces
      i++;
      continue;
    }
    if (c === '}') throw new TemplateError(`unmatched '}' at position ${i + 1} of the format`);
    if (c !== '{') {
      lit += c;
      continue;
    }
    const close = template.indexOf('}', i);
    if (close < 0) throw new TemplateError(`unclosed '{' at position ${i + 1} of the format`);
    const token = template.slice(i + 1, close).trim();
    if (token === 'file') {
      lit += safeText(context.file ?? ''); // the same for every line: literal text
      i = close;
      continue;
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(reader(token));
    i = close;
  }
  if (lit) parts.push(lit);
  return render(parts);
}

/** The parts as literal-then-reader pairs, joined without a type test per part. */
function render(parts: readonly Part[]): (ev: CaEvent) => string {
  const lits: string[] = [];
  const readers: ((ev: CaEvent) => string)[] = [];
  let pending = '';
  for (const p of parts) {
    if (typeof p === 'string') pending += p;
    else {
      lits.push(pending);
      readers.push(p);
      pending = '';
    }
  }
  const tail = pending;
  const n = readers.length;
  return (ev) => {
    let s = '';
    for (let i = 0; i < n; i++) s += lits[i]! + readers[i]!(ev);
    return s + tail;
  };
}

function reader(token: string): (ev: CaEvent) => string {
  const direct = Object.hasOwn(TOKENS, token) ? TOKENS[token] : undefined;
  if (direct) return direct;
  if (token.startsWith('command.')) {
    const field = token.slice('command.'.length);
    if (MESSAGE_FIELDS.has(field)) return (ev) => formatField(ev.command, field, false);
    throw new TemplateError(`unknown field '${field}' in {${token}}; fields: ${[...MESSAGE_FIELDS].join(', ')}`);
  }
  throw new TemplateError(`unknown token {${token}}; tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}`);
}
