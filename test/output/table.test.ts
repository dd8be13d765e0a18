import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { LIST_SEPARATOR, parseCsvList, type ListItem } from '../../src/output/csv-list.js';
import { TABLE_BLOCK_ROWS, formatCsv, formatJsonRows, formatTable, type Column } from '../../src/output/table.js';

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

/** What one cli-table3 table of every row prints (the way formatTable prints short tables). */
function oneTable(rows: readonly Row[]): string {
  const table = new Table({ head: COLUMNS.map((c) => c.title), colAligns: ['left', 'right', 'left'], style: { head: [], border: [] } });
  for (const r of rows) table.push([r.name, String(r.n), r.note ?? '']);
  return table.toString();
}

/** Rows whose widest cells fall in different blocks, with wide, combining and escaped characters. */
function rows(n: number): Row[] {
  const notes = ['', 'é', '中文', 'x\\x1b[2J', '😀', 'e\u0301', 'a'.repeat(5)];
  return Array.from({ length: n }, (_, i) => ({
    name: `IOC${i % 17}:${'ai'.repeat(1 + ((i * 7) % 13))}${i}`,
    n: i * 37,
    note: i % 11 === 0 ? undefined : notes[i % notes.length]! + (i === n - 3 ? '中'.repeat(9) : ''),
  }));
}

describe('text tables', () => {
  it('a long table is rendered in blocks that print exactly what one cli-table3 table prints', () => {
    for (const n of [0, 1, TABLE_BLOCK_ROWS, TABLE_BLOCK_ROWS + 1, 2 * TABLE_BLOCK_ROWS, 2 * TABLE_BLOCK_ROWS + 1, 357]) {
      const r = rows(n);
      expect(formatTable(COLUMNS, r), `${n} rows`).toBe(oneTable(r));
    }
  });

  it('every row of a table of thousands is there once, between the head and the bottom border', () => {
    const r = rows(5000);
    const lines = formatTable(COLUMNS, r).split('\n');
    expect(lines).toHaveLength(3 + 2 * 5000);
    expect(lines[1]).toMatch(/^│ PV +│ +count │ note +│$/);
    expect(lines.filter((l) => l.startsWith('│ IOC')).map((l) => l.split('│')[2]!.trim())).toEqual(r.map((x) => String(x.n)));
    expect(lines.at(-1)).toMatch(/^└─+┴─+┴─+┘$/);
    expect(new Set(lines.map((l) => [...l].length)).size).toBeGreaterThan(1); // wide characters take two columns, not two characters
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
    const cells = formatTable(LISTED, rows)
      .split('\n')
      .filter((l) => /^│ [^f]/.test(l))
      .map((l) => l.split('│').slice(1, -1).map((c) => c.trim()));
    expect(cells).toEqual([
      ['1 2 3 +2 more', 'A:b C:d', 'NaN'],
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
