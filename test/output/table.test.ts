import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { LIST_SEPARATOR, parseCsvList, type ListItem } from '../../src/output/csv-list.js';
import { fitWidths, formatCsv, formatJsonRows, formatTable, type Column } from '../../src/output/table.js';

interface Row {
  name: string;
  n: number;
  note?: string;
}

const COLUMNS: Column<Row>[] = [
  { title: 'PV', value: (r) => r.name },
  { title: 'count', value: (r) => r.n, align: 'right' },
  { title: 'note', value: (r) => r.note },
];

/** Rows with wide, combining and escaped characters. */
function rows(n: number): Row[] {
  const notes = ['', 'é', '中文', 'x\\x1b[2J', '😀', 'e\u0301', 'a'.repeat(5)];
  return Array.from({ length: n }, (_, i) => ({
    name: `IOC${i % 17}:${'ai'.repeat(1 + ((i * 7) % 13))}${i}`,
    n: i * 37,
    note: i % 11 === 0 ? undefined : notes[i % notes.length]! + (i === n - 3 ? '中'.repeat(9) : ''),
  }));
}

const WIDE = { width: 80, wide: true };
const columnsOf = (s: string): number => stringWidth(s);

describe('text tables', () => {
  it('a rule under the head only, each row on one line, right-aligned numbers', () => {
    expect(formatTable(COLUMNS, [{ name: 'A:b', n: 7, note: 'ok' }, { name: 'LONGER:name', n: 1234 }], { width: 80, wide: false }).split('\n')).toEqual([
      '┌─────────────┬───────┬──────┐',
      '│ PV          │ count │ note │',
      '├─────────────┼───────┼──────┤',
      '│ A:b         │     7 │ ok   │',
      '│ LONGER:name │  1234 │      │',
      '└─────────────┴───────┴──────┘',
    ]);
  });

  it('every row of a table of thousands is there once, between the head and the bottom border', () => {
    const r = rows(5000);
    const lines = formatTable(COLUMNS, r, WIDE).split('\n');
    expect(lines).toHaveLength(4 + 5000);
    expect(lines[1]).toMatch(/^│ PV +│ +count │ note +│$/);
    expect(lines.filter((l) => l.startsWith('│ IOC')).map((l) => l.split('│')[2]!.trim())).toEqual(r.map((x) => String(x.n)));
    expect(lines.at(-1)).toMatch(/^└─+┴─+┴─+┘$/);
    expect(new Set(lines.map((l) => [...l].length)).size).toBeGreaterThan(1); // wide characters take two columns, not two characters
    expect(new Set(lines.map(columnsOf)).size).toBe(1); // and every line is as wide as the others
  });

  it('fits the width: text wrapped at spaces, a list cut to the items that fit and "+N more"; --wide shows it all', () => {
    interface T {
      pv: string;
      text: string;
      pvs: string[];
    }
    const cols: Column<T>[] = [
      { title: 'PV', value: (r) => r.pv },
      { title: 'what happened', value: (r) => r.text },
      { title: 'PVs', value: (r) => r.pvs },
    ];
    const row: T = { pv: 'A:b', text: 'the server reset the circuit after 3 echoes went unanswered', pvs: ['X:one', 'X:two', 'X:three', 'X:four'] };
    const lines = formatTable(cols, [row], { width: 50, wide: false }).split('\n');
    expect(lines).toEqual([
      '┌─────┬─────────────────────┬────────────────────┐',
      '│ PV  │ what happened       │ PVs                │',
      '├─────┼─────────────────────┼────────────────────┤',
      '│ A:b │ the server reset    │ X:one +3 more      │',
      '│     │ the circuit after 3 │                    │',
      '│     │ echoes went         │                    │',
      '│     │ unanswered          │                    │',
      '└─────┴─────────────────────┴────────────────────┘',
    ]);
    for (const l of lines) expect(columnsOf(l)).toBeLessThanOrEqual(50);
    const wide = formatTable(cols, [row], { width: 50, wide: true }).split('\n');
    expect(wide[3]).toBe(`│ A:b │ ${row.text} │ X:one X:two X:three X:four │`);
  });

  it('too many columns for the width even at their narrowest: one block of lines per row', () => {
    const r = [{ name: 'IOC1:ai', n: 5, note: 'a note that is long enough to wrap here' }];
    expect(formatTable(COLUMNS, r, { width: 20, wide: false }).split('\n')).toEqual([
      '─ 1 of 1 ───────────',
      'PV     IOC1:ai',
      'count  5',
      'note   a note that',
      '       is long',
      '       enough to',
      '       wrap here',
    ]);
  });

  it('fitWidths: natural widths when they fit, heads wrapped next, then the widest narrowed, never below the least', () => {
    expect(fitWidths([5, 10, 20], [5, 10, 20], [1, 1, 1], 40)).toEqual([5, 10, 20]);
    expect(fitWidths([12, 10, 20], [5, 10, 20], [1, 1, 1], 37)).toEqual([7, 10, 20]);
    expect(fitWidths([5, 10, 20], [5, 10, 20], [5, 4, 4], 25)).toEqual([5, 10, 10]);
    expect(fitWidths([5, 10, 20], [5, 10, 20], [5, 8, 12], 24)).toBeUndefined();
  });

  it('CSV quotes what needs it', () => {
    expect(formatCsv(COLUMNS, [{ name: 'a,b', n: 1, note: 'say "x"' }])).toBe('PV,count,note\n"a,b",1,"say ""x"""');
  });
});

describe('list cells', () => {
  interface Listed {
    frames: number[];
    names?: string[];
    x: number;
  }
  const LISTED: Column<Listed>[] = [
    { title: 'frames', value: (r) => r.frames, preview: 3 },
    { title: 'names', value: (r) => r.names },
    { title: 'x', value: (r) => r.x },
    { title: 'count', value: (r) => r.frames.length, hideInTable: true },
  ];
  const rows: Listed[] = [
    { frames: [1, 2, 3, 4, 5], names: ['A:b', 'C:d'], x: NaN },
    { frames: [], names: [], x: -Infinity },
    { frames: [7], x: 1.5 },
  ];

  it('a table shows the first items and how many more; a column hidden in tables is left out', () => {
    const cells = formatTable(LISTED, rows, { width: 80, wide: false })
      .split('\n')
      .filter((l) => /^│ [^f]/.test(l))
      .map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
    expect(cells).toEqual([
      ['1 2 3 +2 more', 'A:b C:d', 'NaN'], // --wide: 1 2 3 4 5
      ['', '', '-Infinity'],
      ['7', '', '1.5'],
    ]);
  });

  it('JSON has whole arrays, null for no list, and NaN and infinities as strings', () => {
    expect(formatJsonRows(LISTED, rows).split('\n').map((l) => JSON.parse(l))).toEqual([
      { frames: [1, 2, 3, 4, 5], names: ['A:b', 'C:d'], x: 'NaN', count: 5 },
      { frames: [], names: [], x: '-Infinity', count: 0 },
      { frames: [7], names: null, x: 1.5, count: 1 },
    ]);
  });

  it(`CSV: one quoted field, items joined by '${LIST_SEPARATOR}'; an empty list is "" and no list an empty field`, () => {
    expect(formatCsv(LISTED, rows).split('\n')).toEqual(['frames,names,x,count', '"1|2|3|4|5","A:b|C:d",NaN,5', '"","",-Infinity,0', '"7",,1.5,1']);
  });

  it('CSV lists read back item for item, whatever the items hold', () => {
    const lists: ListItem[][] = [[], ['one'], ['a|b', 'c\\d', '\\|', '|', ''], ['x', 'y,z', 'say "q"', 'new\nline'], [1, 2.5, -3]];
    for (const list of lists) {
      const csv = formatCsv<ListItem[]>([{ title: 'l', value: (r) => r }], [list]);
      const field = csv.slice(csv.indexOf('\n') + 1);
      // The CSV field (RFC 4180 unquoted), then the list.
      const text = field.slice(1, -1).replace(/""/g, '"');
      expect(parseCsvList(text)).toEqual(list.map(String));
    }
  });
});
