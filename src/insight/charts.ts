// The DORA chart as a PNG, rendered on the server from the same numbers as the text: ECharts' server-side SVG
// renderer (no DOM, no browser) turned into PNG by resvg (a prebuilt binary from npm, no native build step).
// Three panels: deploys per day stacked by outcome, lead time per week, change failure rate per week.
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { Series } from './dora.js';

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 720;

const day = (ms: number) => new Date(ms).toISOString().slice(5, 10);

/** The chart's SVG (also what the PNG is made from). */
export function chartSvg(title: string, s: Series, size = { width: CHART_WIDTH, height: CHART_HEIGHT }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  const weeks = s.weeks.map((w) => `wk ${day(w.week)}`);
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'DejaVu Sans' },
    title: [
      { text: title, left: 'center', top: 6, textStyle: { fontSize: 16 } },
      { text: 'Deploys per day', left: 40, top: 40, textStyle: { fontSize: 12 } },
      { text: 'Lead time for changes (median, hours)', left: 40, top: 290, textStyle: { fontSize: 12 } },
      { text: 'Change failure rate per week (%)', left: 40, top: 505, textStyle: { fontSize: 12 } },
    ],
    legend: { top: 40, right: 20, data: ['succeeded', 'failed change', 'rollback'] },
    grid: [
      { left: 50, right: 20, top: 70, height: 190 },
      { left: 50, right: 20, top: 320, height: 150 },
      { left: 50, right: 20, top: 535, height: 150 },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: s.days.map((d) => day(d.day)) },
      { type: 'category', gridIndex: 1, data: weeks },
      { type: 'category', gridIndex: 2, data: weeks },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, minInterval: 1 },
      { type: 'value', gridIndex: 1 },
      { type: 'value', gridIndex: 2, max: 100 },
    ],
    series: [
      { name: 'succeeded', type: 'bar', stack: 'd', xAxisIndex: 0, yAxisIndex: 0, itemStyle: { color: '#2a9d8f' }, data: s.days.map((d) => d.ok) },
      { name: 'failed change', type: 'bar', stack: 'd', xAxisIndex: 0, yAxisIndex: 0, itemStyle: { color: '#e63946' }, data: s.days.map((d) => d.failed) },
      { name: 'rollback', type: 'bar', stack: 'd', xAxisIndex: 0, yAxisIndex: 0, itemStyle: { color: '#f4a261' }, data: s.days.map((d) => d.rollbacks) },
      { name: 'lead time', type: 'line', xAxisIndex: 1, yAxisIndex: 1, connectNulls: true, itemStyle: { color: '#457b9d' }, data: s.weeks.map((w) => (w.leadMedianH === undefined ? null : Math.round(w.leadMedianH * 10) / 10)) },
      { name: 'failure rate', type: 'bar', xAxisIndex: 2, yAxisIndex: 2, itemStyle: { color: '#e63946' }, data: s.weeks.map((w) => (w.failureRate === undefined ? null : Math.round(w.failureRate * 1000) / 10)) },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** The chart as PNG bytes, at exactly width × height. */
export function chartPng(title: string, s: Series, size = { width: CHART_WIDTH, height: CHART_HEIGHT }): Buffer {
  const svg = chartSvg(title, s, size);
  return new Resvg(svg, { fitTo: { mode: 'width', value: size.width }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#ffffff' }).render().asPng();
}
