// Wires the runs features: the Guild Runs view and its actions, the Compare,
// Plots and workflow graph webviews, "Run with flags…" and "Show graph"
// (commands, and lenses beside the server's run lenses).
import * as vscode from 'vscode';
import { operationArg } from '../operations';
import { setCodeLensHook } from '../server';
import { ComparePanel } from '../webviews/compare';
import { GraphPanels } from '../webviews/graph';
import { PlotsPanel } from '../webviews/plots';
import { registerRunActions } from './actions';
import type { Run } from './api';
import { runWithFlags } from './flags';
import type { RunArg } from './live';
import { RunsModel } from './model';
import { RunsTree, VIEW_ID } from './tree';

const SERVER_RUN = 'guildls.runWorkflow';
const SERVER_PLAN = 'guildls.showPlan';

export function initRunsViews(context: vscode.ExtensionContext): void {
  const model = new RunsModel();
  const tree = new RunsTree(model);
  const view = vscode.window.createTreeView<Run>(VIEW_ID, { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
  tree.attach(view);
  const plots = new PlotsPanel(model);
  const compare = new ComparePanel(model, (runs) => plots.show(runs));
  const graphs = new GraphPanels();
  context.subscriptions.push(model, tree, graphs);
  registerRunActions(context, model, view, { compare: (runs) => compare.show(runs), plot: (runs) => plots.show(runs) });

  context.subscriptions.push(
    vscode.commands.registerCommand('guild.runWithFlags', async (arg?: RunArg) => {
      const op = await operationArg(arg, 'Guild: Run with Flags');
      if (op?.uri && op.operation) return runWithFlags(op.uri, op.operation, arg?.flags);
      return undefined;
    }),
    vscode.commands.registerCommand('guild.showGraph', async (arg?: RunArg) => {
      const op = await operationArg(arg, 'Guild: Show Workflow Graph');
      if (op?.uri && op.operation) await graphs.show(op.uri, op.operation);
    }),
  );

  // beside the server's "Run workflow"/"Run": "Run with flags…"; beside "Show plan": "Show graph"
  setCodeLensHook((lenses) => {
    const out: vscode.CodeLens[] = [];
    for (const l of lenses) {
      out.push(l);
      const cmd = l.command?.command;
      const args = l.command?.arguments;
      if (cmd === SERVER_RUN) out.push(new vscode.CodeLens(l.range, { title: 'Run with flags…', command: 'guild.runWithFlags', arguments: args }));
      else if (cmd === SERVER_PLAN) out.push(new vscode.CodeLens(l.range, { title: 'Show graph', command: 'guild.showGraph', arguments: args }));
    }
    return out;
  });
}
