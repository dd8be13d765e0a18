import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencyCdfSvg, plotFormat, writeLatencyPlot, type PlotSeries } from '../../src/output/plot.js';

/** Element names in document order, after checking every tag is closed in order (well-formed nesting). */
function elements(svg: string): string[] {
  const open: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (closing) expect(open.pop(), `</${name}>`).toBe(name);
    else {
      seen.push(name!);
      if (!selfClosing) open.push(name!);
    }
  }
  expect(open).toEqual([]);
  return seen;
}

const groups = (svg: string, cls: string): string[] => [...svg.matchAll(new RegExp(`<g class="${cls}"[^>]*>([\\s\\S]*?)</g>`, 'g'))].map((m) => m[0]);

const SERIES: PlotSeries[] = [
  { name: '10.0.0.1:5064 & <B>', values: [1, 2, 3] },
  { name: '10.0.0.2:5064', values: [10, 20] },
];

describe('latencyCdfSvg', () => {
  const svg = latencyCdfSvg(SERIES, { title: 'CreateChan latency per server' });

  it('is well-formed SVG with one series group holding one CDF path per series', () => {
    const names = elements(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="480"/);
    const series = groups(svg, 'series');
    expect(series).toHaveLength(2);
    for (const g of series) expect(g.match(/<path class="cdf"/g)).toHaveLength(1);
    expect(series.map((g) => /data-name="([^"]*)"/.exec(g)![1])).toEqual(['10.0.0.1:5064 &#38; &#60;B&#62;', '10.0.0.2:5064']);
  });

  it('draws each CDF as steps of 1/n at the sorted values on a linear axis from 0', () => {
    // x = 72 + v / 20 * 540 (ticks 0, 5 … 20); y = 424 - F * 380
    expect([...svg.matchAll(/<path class="cdf" d="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'M99.0,424.0H99.0V297.3H126.0V170.7H153.0V44.0',
      'M342.0,424.0H342.0V234.0H612.0V44.0',
    ]);
    expect([...svg.matchAll(/<text x="[\d.]+" y="440" text-anchor="middle">([^<]+)</g)].map((m) => m[1])).toEqual(['0', '5', '10', '15', '20']);
  });

  it('has a title, axis titles and a legend entry (with its count) per series', () => {
    expect(svg).toContain('>CreateChan latency per server</text>');
    expect(svg).toContain('<text class="axis-title x" x="342" y="466" text-anchor="middle">latency (ms)</text>');
    expect(svg).toContain('>fraction of replies within latency</text>');
    expect(groups(svg, 'legend-item').map((g) => /<text[^>]*>([^<]*)</.exec(g)![1])).toEqual(['10.0.0.1:5064 &#38; &#60;B&#62; (n=3)', '10.0.0.2:5064 (n=2)']);
  });

  it('switches to a log axis of whole decades when max / min exceeds 100', () => {
    const log = latencyCdfSvg([{ name: 'a', values: [0.02, 0.5] }, { name: 'b', values: [0, 3, 7] }], { title: 't' });
    expect(log).toContain('latency (ms, log scale)');
    expect([...log.matchAll(/<text x="[\d.]+" y="440" text-anchor="middle">([^<]+)</g)].map((m) => m[1])).toEqual(['0.01', '0.1', '1', '10']);
    // 0 ms sits on the left edge of a log axis
    expect(log).toContain('<path class="cdf" d="M72.0,424.0H72.0V297.3');
    const linear = latencyCdfSvg([{ name: 'a', values: [0.05, 5] }], { title: 't' });
    expect(linear).toContain('latency (ms)</text>');
  });

  it('samples a long series to 1000 steps', () => {
    const values = Float64Array.from({ length: 5000 }, (_, i) => i + 1);
    const big = latencyCdfSvg([{ name: 'many', values }], { title: 't' });
    expect(/d="([^"]+)"/.exec(big)![1]!.match(/H/g)).toHaveLength(1000);
    expect(big).toContain('many (n=5000)');
  });

  it('grows the picture for long legends', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `SOME:LONG:PV:NAME:${i}`, values: [i + 1] }));
    const tall = latencyCdfSvg(many, { title: 't' });
    expect(groups(tall, 'series')).toHaveLength(30);
    expect(tall).toMatch(/height="592"/); // 44 + 30 rows of 18 + 8
  });
});

describe('writeLatencyPlot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cawire-plot-'));

  it('knows the formats by extension', () => {
    expect(['a.svg', 'b.PNG', 'c.pdf', 'svg'].map(plotFormat)).toEqual(['svg', 'png', undefined, undefined]);
  });

  it('writes the SVG as is', async () => {
    const file = join(dir, 'p.svg');
    await writeLatencyPlot(file, SERIES, { title: 'x' });
    expect(readFileSync(file, 'utf8')).toBe(latencyCdfSvg(SERIES, { title: 'x' }));
  });

  it('renders a PNG of the SVG size through resvg (which also parses the SVG strictly)', async () => {
    const file = join(dir, 'p.png');
    await writeLatencyPlot(file, SERIES, { title: 'x' });
    const png = readFileSync(file);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const width = Number(/width="(\d+)"/.exec(latencyCdfSvg(SERIES, { title: 'x' }))![1]);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([width, 480]); // IHDR
  });
});
