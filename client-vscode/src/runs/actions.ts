// Actions on runs, from the Guild Runs view (inline, context menu, several
// runs selected) or the command palette: Show Output (the run's recorded
// output, read by the server), Open Run Folder, Compare, Plot Scalars, Rerun,
// Rerun with Flags…, Label, Delete, Stop.
import * as path from 'path';
import * as vscode from 'vscode';
import { errText } from '../util';
import { deleteRuns, labelRun, Run, runOutput } from './api';
import { runWithFlags } from './flags';
import { userFlags } from './format';
import { RunsModel } from './model';

const OUTPUT_SCHEME = 'guild-run-output';

export interface RunViews {
  compare(runs: Run[]): void;
  plot(runs: Run[]): void;
}

export function registerRunActions(context: vscode.ExtensionContext, model: RunsModel, view: vscode.TreeView<Run>, views: RunViews): void {
  /** The runs a command is about: the clicked one plus the selection it belongs to, else the selection. */
  const target = (clicked?: Run, selected?: Run[]): Run[] => {
    if (selected?.length && (!clicked || selected.some((r) => r.id === clicked.id))) return selected;
    if (clicked && typeof clicked === 'object' && 'id' in clicked) return [clicked];
    return [...view.selection];
  };
  const one = async (clicked: Run | undefined, selected: Run[] | undefined, title: string): Promise<Run | undefined> => {
    const runs = target(clicked, selected);
    if (runs.length >= 1) return runs[0];
    return pickRun(model, title);
  };
  const many = async (clicked: Run | undefined, selected: Run[] | undefined, title: string): Promise<Run[]> => {
    const runs = target(clicked, selected);
    if (runs.length) return runs;
    return pickRuns(model, title);
  };
  const reg = (id: string, fn: (clicked?: Run, selected?: Run[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(OUTPUT_SCHEME, {
    provideTextDocumentContent: async (uri) => {
      const id = new URLSearchParams(uri.query).get('id') ?? '';
      try {
        const out = await runOutput(id);
        const head = out.truncated ? '(output truncated: only its end is shown)\n' : '';
        return head + (out.text || '(this run recorded no output)\n');
      } catch (e) {
        return `Cannot read the output of run ${id}: ${errText(e)}\n`;
      }
    },
  }));

  reg('guild.runs.refresh', () => model.refresh());
  reg('guild.runs.showOutput', async (c, s) => {
    const run = await one(c, s, 'Show the output of run');
    if (!run) return;
    const name = `${run.operation.replace(/[/\\:]/g, '-')} ${run.short_id}.log`;
    const uri = vscode.Uri.from({ scheme: OUTPUT_SCHEME, path: `/${name}`, query: `id=${encodeURIComponent(run.id)}&t=${Date.now()}` });
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  });
  reg('guild.runs.openFolder', async (c, s) => {
    const run = await one(c, s, 'Open the folder of run');
    if (run) await openRunFolder(run);
  });
  reg('guild.runs.compare', async (c, s) => {
    let runs = target(c, s);
    if (runs.length === 1 && model.children(runs[0]).length) runs = model.children(runs[0]); // a workflow: its steps
    if (runs.length < 2) runs = model.roots().filter((r) => !r.steps?.length && !r.trials?.length).slice(0, 20).concat(runs);
    views.compare(dedupe(runs.length ? runs : model.all()));
  });
  reg('guild.runs.plot', async (c, s) => {
    const runs = await many(c, s, 'Plot the scalars of runs');
    if (runs.length) views.plot(runs);
  });
  reg('guild.runs.rerun', async (c, s) => {
    const run = await one(c, s, 'Rerun');
    const where = run && rerunTarget(run);
    if (where) return vscode.commands.executeCommand('guild.runWorkflow', { ...where, flags: run!.flags ?? {} });
    return undefined;
  });
  reg('guild.runs.rerunWithFlags', async (c, s) => {
    const run = await one(c, s, 'Rerun with flags');
    const where = run && rerunTarget(run);
    // the line to edit: the flags a user sets (the required runs are resolved again)
    if (where) return runWithFlags(where.uri, where.operation, userFlags(run!.flags));
    return undefined;
  });
  reg('guild.runs.label', async (c, s) => {
    const run = await one(c, s, 'Label run');
    if (!run) return;
    const label = await vscode.window.showInputBox({
      title: `Guild: label run ${run.short_id} (${run.operation})`, value: run.label ?? '', prompt: 'An empty label removes it',
    });
    if (label === undefined) return;
    try {
      await labelRun(run.id, label);
    } catch (e) {
      void vscode.window.showErrorMessage(`Guild: cannot label run ${run.short_id}: ${errText(e)}`);
    }
    await model.refresh();
  });
  reg('guild.runs.delete', async (c, s) => {
    const runs = await many(c, s, 'Delete runs');
    if (!runs.length) return;
    const what = runs.length === 1 ? `run ${runs[0].short_id} (${runs[0].operation})` : `${runs.length} runs`;
    const pick = await vscode.window.showWarningMessage(`Delete ${what}?`,
      { modal: true, detail: 'The runs are moved to Guild\'s trash, like `guild runs rm` (`guild runs restore` brings them back).' }, 'Delete');
    if (pick !== 'Delete') return;
    try {
      const res = await deleteRuns(runs.map((r) => r.id));
      const n = res?.deleted?.length ?? 0;
      if (n < runs.length) void vscode.window.showWarningMessage(`Guild: ${n} of ${runs.length} runs deleted.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`Guild: cannot delete ${what}: ${errText(e)}`);
    }
    await model.refresh();
  });
  reg('guild.runs.stop', async (c, s) => {
    const run = await one(c, s, 'Stop run');
    let top = run;
    while (top?.parent && model.get(top.parent)) top = model.get(top.parent);
    if (top) return vscode.commands.executeCommand('guild.stopRun', { runId: top.id });
    return undefined;
  });
}

function dedupe(runs: Run[]): Run[] {
  const seen = new Set<string>();
  return runs.filter((r) => !seen.has(r.id) && !!seen.add(r.id));
}

function rerunTarget(run: Run): { uri: string; operation: string } | undefined {
  if (!run.guildfile) {
    void vscode.window.showWarningMessage(`Guild: run ${run.short_id} (${run.operation}) does not say which guild file it came from: it cannot be rerun from the editor.`);
    return undefined;
  }
  return { uri: vscode.Uri.file(run.guildfile).toString(), operation: run.operation };
}

async function openRunFolder(run: Run): Promise<void> {
  const uri = vscode.Uri.file(run.dir);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return;
  }
  // outside the workspace and no local file manager: pick a file of the run to open
  let entries: [string, vscode.FileType][] = [];
  try {
    entries = await vscode.workspace.fs.readDirectory(uri);
  } catch (e) {
    void vscode.window.showErrorMessage(`Guild: cannot read ${run.dir}: ${errText(e)}`);
    return;
  }
  const files = entries.filter(([, t]) => t === vscode.FileType.File).map(([n]) => n);
  const pick = await vscode.window.showQuickPick(files.map((f) => ({ label: f, description: path.join(run.dir, f) })),
    { title: `Run ${run.short_id}: ${run.dir}`, placeHolder: 'Open a file of the run' });
  if (pick) await vscode.window.showTextDocument(vscode.Uri.file(path.join(run.dir, pick.label)));
}

async function pickRun(model: RunsModel, title: string): Promise<Run | undefined> {
  const picks = await pickRunsFrom(model, title, false);
  return picks[0];
}

async function pickRuns(model: RunsModel, title: string): Promise<Run[]> {
  return pickRunsFrom(model, title, true);
}

async function pickRunsFrom(model: RunsModel, title: string, many: boolean): Promise<Run[]> {
  if (!model.loaded) await model.refresh();
  const items = model.all().map((r) => ({ label: `${r.short_id} ${r.operation}`, description: `${r.status}${r.label ? ` · ${r.label}` : ''}`, run: r }));
  if (!items.length) {
    void vscode.window.showInformationMessage('Guild: no runs yet.');
    return [];
  }
  if (many) {
    const picks = await vscode.window.showQuickPick(items, { title: `Guild: ${title}`, canPickMany: true });
    return (picks ?? []).map((p) => p.run);
  }
  const pick = await vscode.window.showQuickPick(items, { title: `Guild: ${title}` });
  return pick ? [pick.run] : [];
}
