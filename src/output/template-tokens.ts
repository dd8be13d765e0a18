// What a --format template may say, apart from the code that writes it:
// `cawire --help` lists the tokens without loading the decoder.

/** The tokens taken from the event, in the order help lists them. */
export const TOKEN_NAMES = ['timestamp', 'time', 'frame', 'src', 'dst', 'sport', 'dport', 'transport', 'direction', 'pv', 'type', 'command', 'code', 'size', 'circuit'] as const;

export type TokenName = (typeof TOKEN_NAMES)[number];

export const TEMPLATE_TOKENS: readonly string[] = [...TOKEN_NAMES, 'file', 'command.FIELD', 'payload', 'payload:OFF:LEN', 'data', 'data[N]'];

export const DEFAULT_TEMPLATE = '{timestamp} {src}:{sport}->{dst}:{dport} {command}';

export class TemplateError extends Error {
  override name = 'TemplateError';
}
