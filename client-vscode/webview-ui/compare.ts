// Compare webview: a sortable table of runs with a column per flag and per
// scalar (last value); columns whose values differ are highlighted; a filter
// box narrows the rows; selected rows can be plotted.
import type { Cell, CompareData, CompareRow } from '../src/webviews/messages';
import './compare.css';
import { formatValue, h, onMessages, vscode } from './common';

interface Column { id: string; label: string; group: 'run' | 'flag' | 'scalar'; get: (r: CompareRow) => Cell }
interface State { sort?: { col: string; dir: 1 | -1 }; filter: string; selected: string[]; onlyDiff: boolean }

const saved = (vscode.getState() as State | undefined) ?? { filter: '', selected: [], onlyDiff: false };
const state: State = { filter: saved.filter ?? '', selected: saved.selected ?? [], onlyDiff: !!saved.onlyDiff, sort: saved.sort };
let data: CompareData = { type: 'data', rows: [], flagCols: [], scalarCols: [] };

const app = document.getElementById('app')!;
const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter rows (text in any cell)', 'aria-label': 'Filter rows' });
filter.value = state.filter;
const onlyDiff = h('input', { type: 'checkbox', id: 'only-diff' });
onlyDiff.checked = state.onlyDiff;
const plotBtn = h('button', { id: 'plot', type: 'button' }, 'Plot selected');
const count = h('span', { class: 'count' });
const table = h('table', { id: 'runs' });
const empty = h('p', { class: 'empty', hidden: true }, 'No runs to compare.');
app.append(
  h('div', { class: 'toolbar' }, filter, h('label', { for: 'only-diff' }, onlyDiff, ' Only columns that differ'), plotBtn, count),
  h('div', { class: 'scroll' }, table), empty,
);

function save(): void {
  vscode.setState(state);
}

filter.addEventListener('input', () => { state.filter = filter.value; save(); render(); });
onlyDiff.addEventListener('change', () => { state.onlyDiff = onlyDiff.checked; save(); render(); });
plotBtn.addEventListener('click', () => {
  const ids = data.rows.filter((r) => state.selected.includes(r.id)).map((r) => r.id);
  vscode.postMessage({ type: 'plot', ids });
});

function columns(): Column[] {
  return [
    { id: 'run', label: 'Run', group: 'run', get: (r) => r.short_id },
    { id: 'operation', label: 'Operation', group: 'run', get: (r) => r.operation },
    { id: 'status', label: 'Status', group: 'run', get: (r) => r.status },
    { id: 'label', label: 'Label', group: 'run', get: (r) => r.label },
    { id: 'started', label: 'Started', group: 'run', get: (r) => (r.started ? r.started.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '') },
    ...data.flagCols.map((k): Column => ({ id: `flag:${k}`, label: k, group: 'flag', get: (r) => r.flags[k] ?? null })),
    ...data.scalarCols.map((k): Column => ({ id: `scalar:${k}`, label: k, group: 'scalar', get: (r) => r.scalars[k] ?? null })),
  ];
}

function text(v: Cell): string {
  return formatValue(v);
}

function compare(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null || a === '') return 1; // empty cells last
  if (b === null || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function render(): void {
  const cols = columns();
  const needle = state.filter.trim().toLowerCase();
  let rows = data.rows.filter((r) => !needle || cols.some((c) => text(c.get(r)).toLowerCase().includes(needle)));
  if (state.sort) {
    const col = cols.find((c) => c.id === state.sort!.col);
    if (col) {
      const dir = state.sort.dir;
      rows = [...rows].sort((a, b) => {
        const x = col.get(a);
        const y = col.get(b);
        const empty = (v: Cell) => v === null || v === '';
        if (empty(x) !== empty(y)) return empty(x) ? 1 : -1; // empty last either way
        return dir * compare(x, y);
      });
    }
  }
  // a data column differs when the shown rows do not all hold the same value
  const differs = new Set(cols.filter((c) => c.group !== 'run' && new Set(rows.map((r) => text(c.get(r)))).size > 1).map((c) => c.id));
  const shown = cols.filter((c) => !state.onlyDiff || c.group === 'run' || differs.has(c.id));

  const allBox = h('input', { type: 'checkbox', 'aria-label': 'Select all rows' });
  allBox.checked = rows.length > 0 && rows.every((r) => state.selected.includes(r.id));
  allBox.addEventListener('change', () => {
    const ids = new Set(state.selected);
    for (const r of rows) { if (allBox.checked) ids.add(r.id); else ids.delete(r.id); }
    state.selected = [...ids];
    save();
    render();
  });
  const groupRow = h('tr', { class: 'groups' }, h('th'));
  for (const g of ['run', 'flag', 'scalar'] as const) {
    const n = shown.filter((c) => c.group === g).length;
    if (n) groupRow.append(h('th', { colspan: n, class: `group-${g}` }, g === 'run' ? '' : g === 'flag' ? 'Flags' : 'Scalars'));
  }
  const head = h('tr', {}, h('th', { class: 'sel' }, allBox));
  for (const c of shown) {
    const sorted = state.sort?.col === c.id ? state.sort.dir : 0;
    const th = h('th', {
      class: `col-${c.group}${differs.has(c.id) ? ' differs' : ''}`, 'data-col': c.id, tabindex: 0, role: 'columnheader',
      'aria-sort': sorted === 1 ? 'ascending' : sorted === -1 ? 'descending' : 'none',
      title: `${c.group === 'run' ? '' : `${c.group} `}${c.label}${differs.has(c.id) ? ' (values differ)' : ''} — click to sort`,
    }, c.label, sorted ? (sorted === 1 ? ' ▲' : ' ▼') : '');
    const sort = () => {
      state.sort = { col: c.id, dir: state.sort?.col === c.id && state.sort.dir === 1 ? -1 : 1 };
      save();
      render();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    head.append(th);
  }
  const body = h('tbody');
  for (const r of rows) {
    const selected = state.selected.includes(r.id);
    const box = h('input', { type: 'checkbox', 'aria-label': `Select run ${r.short_id}` });
    box.checked = selected;
    const tr = h('tr', { class: selected ? 'selected' : '', 'data-run': r.id }, h('td', { class: 'sel' }, box));
    for (const c of shown) {
      const v = c.get(r);
      tr.append(h('td', {
        class: `col-${c.group}${differs.has(c.id) ? ' differs' : ''}${typeof v === 'number' ? ' num' : ''}${c.id === 'status' ? ` status-${String(v)}` : ''}`,
        'data-col': c.id,
      }, text(v)));
    }
    const toggle = () => {
      state.selected = selected ? state.selected.filter((id) => id !== r.id) : [...state.selected, r.id];
      save();
      render();
    };
    box.addEventListener('change', toggle);
    tr.addEventListener('click', (e) => { if (e.target !== box) toggle(); });
    body.append(tr);
  }
  table.replaceChildren(h('thead', {}, groupRow, head), body);
  const nSel = data.rows.filter((r) => state.selected.includes(r.id)).length;
  plotBtn.disabled = nSel === 0;
  plotBtn.textContent = nSel ? `Plot selected (${nSel})` : 'Plot selected';
  count.textContent = `${rows.length} of ${data.rows.length} runs · ${differs.size} column${differs.size === 1 ? '' : 's'} differ`;
  empty.hidden = data.rows.length > 0;
}

onMessages<CompareData>((msg) => {
  if (msg.type !== 'data') return;
  data = msg;
  const ids = new Set(data.rows.map((r) => r.id));
  state.selected = state.selected.filter((id) => ids.has(id));
  render();
});
render();
