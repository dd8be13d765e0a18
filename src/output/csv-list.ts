// A list (frames, PV names, intervals) in one CSV field: its items joined by one
// separator, the field quoted (table.ts csvField). parseCsvList() splits it again.

/** One item of a list. */
export type ListItem = string | number;

/**
 * Separates the items of a list in one CSV field. EPICS record names cannot hold
 * it; an item that does (or holds a backslash) has it escaped as \| (\\).
 */
export const LIST_SEPARATOR = '|';

/** A list's items as one CSV field's text: joined by LIST_SEPARATOR, `|` and `\` in items escaped. */
export function csvList(items: readonly ListItem[]): string {
  return items.map((v) => (typeof v === 'string' ? v.replace(/[\\|]/g, '\\$&') : String(v))).join(LIST_SEPARATOR);
}

/** The items of a CSV list field, its text after CSV unquoting (csvList's inverse; numbers come back as their text). */
export function parseCsvList(field: string): string[] {
  if (field === '') return [];
  const items: string[] = [];
  let item = '';
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch === '\\' && i + 1 < field.length) item += field[++i];
    else if (ch === LIST_SEPARATOR) {
      items.push(item);
      item = '';
    } else item += ch;
  }
  items.push(item);
  return items;
}
