// The workflow graph: the server's graph of a workflow (steps, nested
// workflows as groups, the runs each step requires) drawn in a webview;
// nodes take the live status of a run (guildls/stepStatus) and a click on a
// node opens its step's line.
import * as vscode from 'vscode';
import { Graph, N_STEP_STATUS, StepStatus, workflowGraph } from '../runs/api';
import { onServerNotification } from '../server';
import { errText } from '../util';
import type { FromGraph, GraphData } from './messages';
import { WebviewHost } from './panel';

class GraphPanel {
  readonly host: WebviewHost;
  graph: Graph = { nodes: [], edges: [] };
  status: Record<string, string> = {};
  runIds = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly uri: string, readonly operation: string, onDispose: () => void) {
    this.host = new WebviewHost('graph', `Graph: ${operation}`, (m) => this.receive(m as FromGraph), vscode.ViewColumn.Beside);
    this.host.onDidDispose(onDispose);
  }

  async load(): Promise<boolean> {
    try {
      this.graph = await workflowGraph(this.uri, this.operation);
    } catch (e) {
      void vscode.window.showErrorMessage(`Guild: cannot show the graph of '${this.operation}': ${errText(e)}`);
      return false;
    }
    this.send();
    return true;
  }

  /** Re-reads the graph a moment after the guild file changed. */
  reloadSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 600);
  }

  send(): void {
    const data: GraphData = {
      type: 'data', title: this.operation, status: this.status,
      nodes: (this.graph.nodes ?? []).map((n) => ({ ...n, line: n.line ?? null, uri: n.uri ?? null, parent: n.parent ?? null })),
      edges: this.graph.edges ?? [],
    };
    this.host.post(data);
  }

  runStarted(runId: string): void {
    this.runIds.add(runId);
    this.status = {};
    for (const n of this.graph.nodes ?? []) if (n.kind !== 'dependency') this.status[n.id] = 'pending';
    this.host.post({ type: 'status', status: this.status });
  }

  stepStatus(p: StepStatus): void {
    this.status[p.step] = p.status;
    this.host.post({ type: 'status', status: { [p.step]: p.status } });
  }

  private receive(m: FromGraph): void {
    if (m.type === 'ready') this.send();
    else if (m.type === 'reveal') {
      const node = this.graph.nodes.find((n) => n.id === m.id);
      if (!node || node.line === null || node.line === undefined) return;
      const target = vscode.Uri.parse(node.uri || this.uri);
      const pos = new vscode.Position(node.line, 0);
      void vscode.window.showTextDocument(target, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
    }
  }
}

export class GraphPanels implements vscode.Disposable {
  private readonly panels = new Map<string, GraphPanel>();
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    this.subs.push(
      onServerNotification<{ runId: string; operation: string; uri?: string }>('guildls/runStarted', (p) => {
        for (const g of this.panels.values()) if (g.operation === p.operation && (!p.uri || p.uri === g.uri)) g.runStarted(p.runId);
      }),
      onServerNotification<StepStatus>(N_STEP_STATUS, (p) => {
        for (const g of this.panels.values()) {
          if (g.runIds.has(p.runId) || (!g.runIds.size && g.graph.nodes.some((n) => n.id === p.step))) g.stepStatus(p);
        }
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        const uri = e.document.uri.toString();
        for (const g of this.panels.values()) if (g.uri === uri) g.reloadSoon();
      }),
    );
  }

  async show(uri: string, operation: string): Promise<void> {
    const key = `${uri}#${operation}`;
    const open = this.panels.get(key);
    if (open) {
      open.host.panel.reveal(undefined, false);
      await open.load();
      return;
    }
    const g = new GraphPanel(uri, operation, () => this.panels.delete(key));
    this.panels.set(key, g);
    if (!(await g.load())) g.host.panel.dispose();
  }

  dispose(): void {
    for (const g of this.panels.values()) g.host.panel.dispose();
    for (const s of this.subs) s.dispose();
  }
}
