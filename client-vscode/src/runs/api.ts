// The server's run commands (see the README's "Runs" section), typed.
import { sendServerCommand } from '../server';

export type RunStatus = 'running' | 'completed' | 'error' | 'terminated' | 'pending' | 'staged' | string;

export interface Scalar { last: number | null; step: number | null }

export interface Run {
  id: string;
  short_id: string;
  operation: string;
  model: string;
  op_name: string;
  status: RunStatus;
  started: string | null;
  stopped: string | null;
  duration: number | null;
  label: string | null;
  tags: string[];
  flags: Record<string, unknown>;
  exit_status: number | null;
  kind: 'workflow' | 'step' | 'batch' | 'trial' | 'run' | string;
  parent: string | null;
  steps: string[];
  trials: string[];
  scalars: Record<string, Scalar>;
  dir: string;
  project: string | null;
  guildfile: string | null;
}

export interface FlagInfo {
  name: string;
  default: unknown;
  type: string | null;
  choices: unknown[] | null;
  description: string | null;
  required: boolean;
}

export type Series = Record<string, Record<string, [number, number][]>>; // run id -> key -> [[step, value]]

export interface GraphNode {
  id: string;
  label: string;
  operation: string;
  kind: 'step' | 'workflow' | 'dependency' | string;
  parent: string | null;
  uri: string | null;
  line: number | null;
}
export interface GraphEdge { from: string; to: string; kind: 'order' | 'requires' | string }
export interface Graph { nodes: GraphNode[]; edges: GraphEdge[] }

export interface StepStatus { runId: string; step: string; stepRunId?: string; status: string }
export interface RunsChanged { dirs?: string[]; ids?: string[] }

export const N_RUNS_CHANGED = 'guildls/runsChanged';
export const N_STEP_STATUS = 'guildls/stepStatus';

const call = <T>(command: string, arg: unknown) => sendServerCommand(command, arg) as Promise<T>;

export const listRuns = (arg: { uri?: string; cwd?: string; filters?: string[] } = {}) =>
  call<Run[]>('guildls.listRuns', arg).then((r) => (Array.isArray(r) ? r : []));
export const runScalars = (ids: string[], keys?: string[]) =>
  call<Series>('guildls.runScalars', keys ? { ids, keys } : { ids });
export const deleteRuns = (ids: string[]) => call<{ deleted: string[] }>('guildls.deleteRuns', { ids });
export const labelRun = (id: string, label: string) => call<Run>('guildls.labelRun', { id, label });
export const runOutput = (id: string) => call<{ id: string; text: string; truncated: boolean }>('guildls.runOutput', { id });
export const operationFlags = (uri: string, operation: string) =>
  call<FlagInfo[]>('guildls.operationFlags', { uri, operation }).then((r) => (Array.isArray(r) ? r : []));
export const validateFlags = (uri: string, operation: string, flags: Record<string, string>) =>
  call<{ errors: Record<string, string> }>('guildls.validateFlags', { uri, operation, flags });
export const workflowGraph = (uri: string, operation: string) => call<Graph>('guildls.workflowGraph', { uri, operation });
