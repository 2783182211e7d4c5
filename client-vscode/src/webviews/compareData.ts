// Rows of the Compare table from run objects. A workflow run's row also
// carries its step runs' flags and last scalars (a step's value under its
// own name, `step:name` when two steps disagree), so two workflow runs
// compare by what their steps did.
import type { Run } from '../runs/api';
import { userFlags } from '../runs/format';
import type { Cell, CompareData, CompareRow } from './messages';

function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function merge(into: Record<string, Cell>, key: string, value: Cell, prefix: string): void {
  if (!(key in into)) into[key] = value;
  else if (into[key] !== value) into[`${prefix}:${key}`] = value;
}

export function compareRow(run: Run, children: (r: Run) => Run[]): CompareRow {
  const flags: Record<string, Cell> = {};
  const scalars: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(userFlags(run.flags))) flags[k] = cell(v);
  for (const [k, s] of Object.entries(run.scalars ?? {})) scalars[k] = cell(s?.last);
  const walk = (r: Run, depth: number) => {
    for (const c of children(r)) {
      const name = c.op_name || c.operation;
      for (const [k, v] of Object.entries(userFlags(c.flags))) merge(flags, k, cell(v), name);
      for (const [k, s] of Object.entries(c.scalars ?? {})) merge(scalars, k, cell(s?.last), name);
      if (depth < 8) walk(c, depth + 1);
    }
  };
  walk(run, 0);
  return {
    id: run.id, short_id: run.short_id, operation: run.operation, status: run.status,
    label: run.label ?? '', started: run.started ?? '', flags, scalars,
  };
}

export function compareData(runs: Run[], children: (r: Run) => Run[]): CompareData {
  const rows = runs.map((r) => compareRow(r, children));
  const flagCols = [...new Set(rows.flatMap((r) => Object.keys(r.flags)))].sort();
  const scalarCols = [...new Set(rows.flatMap((r) => Object.keys(r.scalars)))].sort();
  return { type: 'data', rows, flagCols, scalarCols };
}
