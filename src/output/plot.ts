// Latency distributions as a picture: one cumulative distribution (CDF) per
// series (server, client …) on shared axes, a logarithmic latency axis when the
// values span more than two decades, a legend and axis titles. The SVG is
// written by hand (no dependency); PNG goes through @resvg/resvg-js, loaded
// only when a PNG is asked for.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface PlotSeries {
  name: string;
  /** latencies in milliseconds, sorted ascending */
  values: ArrayLike<number>;
}

export interface PlotOptions {
  title: string;
}

export type PlotFormat = 'svg' | 'png';

/** The format a file name asks for, or undefined. */
export function plotFormat(file: string): PlotFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  return ext === 'svg' || ext === 'png' ? ext : undefined;
}

const MARGIN = { left: 72, top: 44, bottom: 56 };
const PLOT_W = 540;
const PLOT_H = 380;
/** legend: row height, and a generous average glyph width at 12 px to size its column */
const LEGEND_ROW = 18;
const LEGEND_CHAR_W = 7.5;
/** points drawn per series at most: more are sampled at evenly spaced ranks */
const MAX_POINTS = 1000;
/** log axis when max / min exceeds this */
const LOG_SPREAD = 100;
const FONT = 'DejaVu Sans, Verdana, sans-serif';
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf'];

interface Axis {
  log: boolean;
  lo: number;
  hi: number;
  ticks: number[];
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fixed = (v: number): string => v.toFixed(1);
const tickLabel = (v: number): string => String(Number(v.toPrecision(3)));

/** The latency axis for values from `min` (smallest positive) to `max`. */
function latencyAxis(minPositive: number, max: number): Axis {
  if (minPositive > 0 && max / minPositive > LOG_SPREAD) {
    const loExp = Math.floor(Math.log10(minPositive));
    const hiExp = Math.ceil(Math.log10(max));
    const ticks: number[] = [];
    for (let e = loExp; e <= hiExp; e++) ticks.push(10 ** e);
    return { log: true, lo: 10 ** loExp, hi: 10 ** hiExp, ticks };
  }
  const top = max > 0 ? max : 1;
  const raw = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= raw)! * magnitude;
  const hi = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= hi * (1 + 1e-9); i++) ticks.push(i * step);
  return { log: false, lo: 0, hi, ticks };
}

function xOf(axis: Axis, v: number): number {
  const f = axis.log
    ? (Math.log10(Math.max(v, axis.lo)) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (v - axis.lo) / (axis.hi - axis.lo);
  return MARGIN.left + f * PLOT_W;
}

const yOf = (fraction: number): number => MARGIN.top + (1 - fraction) * PLOT_H;

/** Step path of the empirical CDF: up by 1/n at each value. */
function cdfPath(axis: Axis, values: ArrayLike<number>): string {
  const n = values.length;
  const step = n > MAX_POINTS ? (n - 1) / (MAX_POINTS - 1) : 1;
  const parts = [`M${fixed(xOf(axis, values[0]!))},${fixed(yOf(0))}`];
  for (let k = 0; k * step <= n - 1 + 1e-9; k++) {
    const i = Math.round(k * step);
    parts.push(`H${fixed(xOf(axis, values[i]!))}V${fixed(yOf((i + 1) / n))}`);
  }
  return parts.join('');
}

/** An SVG document: one `<g class="series">` with one CDF `<path>` per series. */
export function latencyCdfSvg(series: readonly PlotSeries[], opts: PlotOptions): string {
  const drawn = series.filter((s) => s.values.length > 0);
  let minPositive = Infinity;
  let max = 0;
  for (const s of drawn) {
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      if (v > 0 && v < minPositive) minPositive = v;
      if (v > max) max = v;
    }
  }
  const axis = latencyAxis(minPositive === Infinity ? 0 : minPositive, max);
  const labels = drawn.map((s) => `${s.name} (n=${s.values.length})`);
  const width = Math.ceil(MARGIN.left + PLOT_W + 16 + 24 + LEGEND_CHAR_W * Math.max(10, ...labels.map((l) => l.length)) + 8);
  const height = Math.max(MARGIN.top + PLOT_H + MARGIN.bottom, MARGIN.top + labels.length * LEGEND_ROW + 8);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN.left}" y="${MARGIN.top - 16}" font-size="15">${escapeXml(opts.title)}</text>`,
  );

  const bottom = MARGIN.top + PLOT_H;
  const right = MARGIN.left + PLOT_W;
  out.push('<g class="axes" stroke="#cccccc">');
  for (const t of axis.ticks) out.push(`<line class="grid x" x1="${fixed(xOf(axis, t))}" x2="${fixed(xOf(axis, t))}" y1="${MARGIN.top}" y2="${bottom}"/>`);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) out.push(`<line class="grid y" x1="${MARGIN.left}" x2="${right}" y1="${fixed(yOf(f))}" y2="${fixed(yOf(f))}"/>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#333333"/>`, '</g>');
  out.push('<g class="tick-labels" fill="#333333">');
  for (const t of axis.ticks) out.push(`<text x="${fixed(xOf(axis, t))}" y="${bottom + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) out.push(`<text x="${MARGIN.left - 6}" y="${fixed(yOf(f) + 4)}" text-anchor="end">${f}</text>`);
  out.push('</g>');
  const xTitle = `latency (ms${axis.log ? ', log scale' : ''})`;
  out.push(
    `<text class="axis-title x" x="${MARGIN.left + PLOT_W / 2}" y="${bottom + MARGIN.bottom - 14}" text-anchor="middle">${xTitle}</text>`,
    `<text class="axis-title y" transform="translate(18 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">fraction of replies within latency</text>`,
  );

  const legendX = right + 16;
  const legend: string[] = [`<g class="legend" transform="translate(${legendX} ${MARGIN.top})">`];
  drawn.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    out.push(
      `<g class="series" data-name="${escapeXml(s.name)}">`,
      `<path class="cdf" d="${cdfPath(axis, s.values)}" fill="none" stroke="${colour}" stroke-width="1.5"/>`,
      '</g>',
    );
    legend.push(
      `<g class="legend-item" transform="translate(0 ${i * LEGEND_ROW})">`,
      `<line x1="0" x2="18" y1="6" y2="6" stroke="${colour}" stroke-width="3"/>`,
      `<text x="24" y="10">${escapeXml(labels[i]!)}</text>`,
      '</g>',
    );
  });
  legend.push('</g>');
  out.push(...legend, '</svg>');
  return out.join('\n') + '\n';
}

/** Writes the plot as SVG or PNG, by the file's extension (see plotFormat). */
export async function writeLatencyPlot(file: string, series: readonly PlotSeries[], opts: PlotOptions): Promise<void> {
  const svg = latencyCdfSvg(series, opts);
  if (plotFormat(file) === 'png') await writeFile(file, await svgToPng(svg));
  else await writeFile(file, svg);
}

async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const fontFiles = FONT_FILES.filter((f) => existsSync(f));
  // Without font files resvg draws no text unless it may read the system's fonts.
  const resvg = new Resvg(svg, { font: { fontFiles, loadSystemFonts: fontFiles.length === 0, defaultFontFamily: 'DejaVu Sans' } });
  return resvg.render().asPng();
}

// ---- time series (cawire tcp --trace --plot) -----------------------------------

/** A line over time: (seconds, value) points, drawn as steps (a value holds until the next). */
export interface TimeSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface TimeSeriesOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** spans to shade (stalls), with a label each */
  spans?: readonly { from: number; to: number; label: string }[];
  /** moments to mark with a tick above the plot (retransmissions), per kind */
  marks?: readonly { name: string; times: readonly number[] }[];
}

/** A linear axis from 0 (or lo) to a round number above max, with about five ticks. */
function linearAxis(lo: number, max: number): Axis {
  const span = max - lo > 0 ? max - lo : 1;
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= raw)! * magnitude;
  const start = Math.floor(lo / step) * step;
  const hi = start + Math.ceil((max - start) / step) * step || start + step;
  const ticks: number[] = [];
  for (let v = start; v <= hi * (1 + 1e-9) + 1e-12; v += step) ticks.push(Number(v.toPrecision(12)));
  return { log: false, lo: start, hi, ticks };
}

/** An SVG document: one `<g class="series">` with a step `<path>` per series, stalls as `<rect class="span">`, marks as `<line class="mark">`. */
export function timeSeriesSvg(series: readonly TimeSeries[], opts: TimeSeriesOptions): string {
  const drawn = series.filter((s) => s.points.length > 0);
  let tMin = Infinity;
  let tMax = -Infinity;
  let yMax = 0;
  for (const s of drawn) {
    for (const [t, y] of s.points) {
      tMin = Math.min(tMin, t);
      tMax = Math.max(tMax, t);
      yMax = Math.max(yMax, y);
    }
  }
  if (tMin === Infinity) tMin = tMax = 0;
  const xAxis = linearAxis(Math.min(0, tMin), tMax);
  const yAxis = linearAxis(0, yMax);
  const x = (t: number) => MARGIN.left + ((t - xAxis.lo) / (xAxis.hi - xAxis.lo)) * PLOT_W;
  const y = (v: number) => MARGIN.top + (1 - (v - yAxis.lo) / (yAxis.hi - yAxis.lo)) * PLOT_H;
  const labels = [...drawn.map((s) => s.name), ...(opts.spans?.length ? ['stall'] : []), ...(opts.marks ?? []).filter((m) => m.times.length).map((m) => m.name)];
  const width = Math.ceil(MARGIN.left + PLOT_W + 16 + 24 + LEGEND_CHAR_W * Math.max(10, ...labels.map((l) => l.length)) + 8);
  const height = Math.max(MARGIN.top + PLOT_H + MARGIN.bottom, MARGIN.top + labels.length * LEGEND_ROW + 8);
  const bottom = MARGIN.top + PLOT_H;
  const right = MARGIN.left + PLOT_W;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${MARGIN.left}" y="${MARGIN.top - 16}" font-size="15">${escapeXml(opts.title)}</text>`,
    '<g class="axes" stroke="#cccccc">',
  ];
  for (const t of xAxis.ticks) out.push(`<line class="grid x" x1="${fixed(x(t))}" x2="${fixed(x(t))}" y1="${MARGIN.top}" y2="${bottom}"/>`);
  for (const v of yAxis.ticks) out.push(`<line class="grid y" x1="${MARGIN.left}" x2="${right}" y1="${fixed(y(v))}" y2="${fixed(y(v))}"/>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#333333"/>`, '</g>');
  out.push('<g class="tick-labels" fill="#333333">');
  for (const t of xAxis.ticks) out.push(`<text x="${fixed(x(t))}" y="${bottom + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  for (const v of yAxis.ticks) out.push(`<text x="${MARGIN.left - 6}" y="${fixed(y(v) + 4)}" text-anchor="end">${tickLabel(v)}</text>`);
  out.push('</g>');
  out.push(
    `<text class="axis-title x" x="${MARGIN.left + PLOT_W / 2}" y="${bottom + MARGIN.bottom - 14}" text-anchor="middle">${escapeXml(opts.xTitle)}</text>`,
    `<text class="axis-title y" transform="translate(14 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yTitle)}</text>`,
  );
  for (const s of opts.spans ?? []) {
    out.push(`<rect class="span" x="${fixed(x(s.from))}" y="${MARGIN.top}" width="${fixed(Math.max(1, x(s.to) - x(s.from)))}" height="${PLOT_H}" fill="#d62728" fill-opacity="0.12"><title>${escapeXml(s.label)}</title></rect>`);
  }
  const legend: string[] = [`<g class="legend" transform="translate(${right + 16} ${MARGIN.top})">`];
  const legendItem = (i: number, colour: string, label: string) =>
    legend.push(
      `<g class="legend-item" transform="translate(0 ${i * LEGEND_ROW})">`,
      `<line x1="0" x2="18" y1="6" y2="6" stroke="${colour}" stroke-width="3"/>`,
      `<text x="24" y="10">${escapeXml(label)}</text>`,
      '</g>',
    );
  drawn.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = s.points;
    const d = [`M${fixed(x(pts[0]![0]))},${fixed(y(pts[0]![1]))}`];
    for (let k = 1; k < pts.length; k++) d.push(`H${fixed(x(pts[k]![0]))}V${fixed(y(pts[k]![1]))}`);
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`, `<path d="${d.join('')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`, '</g>');
    legendItem(i, colour, s.name);
  });
  let row = drawn.length;
  if (opts.spans?.length) legendItem(row++, '#f3c6c6', 'stall');
  (opts.marks ?? []).forEach((m, k) => {
    if (!m.times.length) return;
    const colour = COLOURS[(drawn.length + k) % COLOURS.length]!;
    out.push(`<g class="marks" data-name="${escapeXml(m.name)}" stroke="${colour}" stroke-width="1.5">`);
    for (const t of m.times) out.push(`<line class="mark" x1="${fixed(x(t))}" x2="${fixed(x(t))}" y1="${MARGIN.top - 8}" y2="${MARGIN.top + 6}"/>`);
    out.push('</g>');
    legendItem(row++, colour, m.name);
  });
  legend.push('</g>');
  out.push(...legend, '</svg>');
  return out.join('\n') + '\n';
}

/** Writes an SVG document as the file's extension asks: SVG, or PNG (see plotFormat). */
export async function writeSvgPlot(file: string, svg: string): Promise<void> {
  if (plotFormat(file) === 'png') await writeFile(file, await svgToPng(svg));
  else await writeFile(file, svg);
}
