// Plots webview: one chart per scalar key, one line per run (uPlot), with a
// legend that shows the values under the cursor; colours from the theme.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './plots.css';
import type { PlotData } from '../src/webviews/messages';
import { formatValue, h, onMessages, themeColor } from './common';

const PALETTE: [string, string][] = [
  ['charts-blue', '#3794ff'], ['charts-orange', '#d18616'], ['charts-green', '#89d185'], ['charts-red', '#f14c4c'],
  ['charts-purple', '#b180d7'], ['charts-yellow', '#cca700'], ['terminal-ansiCyan', '#11a8cd'], ['terminal-ansiMagenta', '#bc3fbc'],
];

let data: PlotData | undefined;
let charts: uPlot[] = [];
const app = document.getElementById('app')!;
const header = h('div', { class: 'header' });
const grid = h('div', { class: 'charts' });
app.append(header, grid);

function colors(): string[] {
  return PALETTE.map(([name, fb]) => themeColor(name, fb));
}

function width(): number {
  return Math.max(260, Math.min(720, grid.clientWidth - 24));
}

/** x = union of the steps of every run; y per run, null where it logged nothing. */
function aligned(key: string, runIds: string[]): uPlot.AlignedData {
  const steps = new Set<number>();
  const maps = runIds.map((id) => {
    const m = new Map<number, number>();
    for (const [step, value] of data!.series[id]?.[key] ?? []) {
      if (typeof step !== 'number' || typeof value !== 'number') continue;
      m.set(step, value);
      steps.add(step);
    }
    return m;
  });
  const xs = [...steps].sort((a, b) => a - b);
  return [xs, ...maps.map((m) => xs.map((x) => (m.has(x) ? m.get(x)! : null)))];
}

function render(): void {
  for (const c of charts) c.destroy();
  charts = [];
  grid.replaceChildren();
  if (!data) return;
  const runs = data.runs.filter((r) => data!.series[r.id]);
  const keys = [...new Set(runs.flatMap((r) => Object.keys(data!.series[r.id] ?? {})))].sort();
  header.replaceChildren(h('span', {}, `${data.runs.length} run${data.runs.length === 1 ? '' : 's'} · ${keys.length} scalar${keys.length === 1 ? '' : 's'}`));
  if (data.error) header.append(h('span', { class: 'error' }, data.error));
  if (!keys.length) {
    grid.append(h('p', { class: 'empty' }, data.runs.length ? 'These runs logged no scalars.' : 'No runs to plot.'));
    return;
  }
  const palette = colors();
  const fg = themeColor('foreground', '#888');
  const gridColor = themeColor('editorWidget-border', 'rgba(128,128,128,.3)');
  for (const key of keys) {
    const withKey = runs.filter((r) => (data!.series[r.id]?.[key] ?? []).length);
    // data-points: how many steps each run logged (1 draws a dot, more a line)
    const points = withKey.map((r) => String((data!.series[r.id]?.[key] ?? []).length)).join(',');
    const box = h('section', { class: 'chart', 'data-key': key, 'data-points': points }, h('h3', {}, key));
    grid.append(box);
    const opts: uPlot.Options = {
      width: width(),
      height: 260,
      // steps are integers; a single logged step gets a narrow range around it (uPlot itself
      // widens one x value to 0..100 before asking this function, so look at the data)
      scales: { x: { time: false, range: (u, min, max) => {
        const xs = u.data?.[0] ?? [];
        if (xs.length === 1 && typeof xs[0] === 'number') return [xs[0] - 1, xs[0] + 1];
        return min === max ? [min - 1, max + 1] : [min, max];
      } } },
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      axes: [
        // steps are whole numbers: no ticks between them
        { label: 'step', stroke: fg, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor },
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] },
        { stroke: fg, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 60 },
      ],
      series: [
        { label: 'step', value: (_u, v) => (v === null || v === undefined ? '' : formatValue(v)) },
        ...withKey.map((r) => {
          const color = palette[runs.indexOf(r) % palette.length];
          return {
            label: r.name, stroke: color, width: 2, spanGaps: true,
            points: { show: true, size: 5, fill: color },
            value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : formatValue(v)),
          };
        }),
      ],
    };
    charts.push(new uPlot(opts, aligned(key, withKey.map((r) => r.id)), box));
  }
}

new ResizeObserver(() => { for (const c of charts) c.setSize({ width: width(), height: 260 }); }).observe(grid);
// the theme changed: VS Code swaps the body's class; redraw with its colours
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

onMessages<PlotData>((msg) => {
  if (msg.type !== 'data') return;
  data = msg;
  render();
});
