// Messages between the extension and its webviews (both sides import these types).
// Every string in them is data to be shown as text.

export type Cell = string | number | boolean | null;

export interface CompareRow {
  id: string;
  short_id: string;
  operation: string;
  status: string;
  label: string;
  started: string;
  flags: Record<string, Cell>;
  scalars: Record<string, Cell>;
}

export interface CompareData { type: 'data'; rows: CompareRow[]; flagCols: string[]; scalarCols: string[] }

export interface PlotRun { id: string; name: string; status: string }
export interface PlotData {
  type: 'data';
  runs: PlotRun[];
  /** run id -> scalar key -> [[step, value], ...] */
  series: Record<string, Record<string, [number, number][]>>;
  error?: string;
}

export interface GraphNodeMsg {
  id: string; label: string; operation: string; kind: string; parent: string | null; line: number | null; uri: string | null;
}
export interface GraphData {
  type: 'data';
  title: string;
  nodes: GraphNodeMsg[];
  edges: { from: string; to: string; kind: string }[];
  status: Record<string, string>;
}
export interface GraphStatus { type: 'status'; status: Record<string, string> }

export type FromCompare = { type: 'ready' } | { type: 'plot'; ids: string[] };
export type FromPlots = { type: 'ready' };
export type FromGraph = { type: 'ready' } | { type: 'reveal'; id: string };
