// The Guild Runs view: runs newest first, a workflow's step runs (a batch's
// trials) as children, a status icon, `op · 2 min ago · loss 0.81`, and a
// tooltip with flags and scalars. Rendering only: the model holds the data.
import * as vscode from 'vscode';
import type { Run } from './api';
import { ago, duration, flagValue, headlineScalar, isDependencyFlag, num, userFlags, userLabel } from './format';
import { RunsModel } from './model';

export const VIEW_ID = 'guildRuns';

export class RunsTree implements vscode.TreeDataProvider<Run>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Run | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];
  private clock: NodeJS.Timeout | undefined;
  view: vscode.TreeView<Run> | undefined;

  constructor(private readonly model: RunsModel) {
    this.subs.push(this.changed, model.onDidChange(() => this.render()));
  }

  attach(view: vscode.TreeView<Run>): void {
    this.view = view;
    // "2 min ago" ages: re-render (no request to the server) each minute while shown
    const tick = () => {
      if (this.clock) clearInterval(this.clock);
      this.clock = view.visible ? setInterval(() => this.changed.fire(undefined), 60_000) : undefined;
      if (view.visible && !this.model.loaded) void this.model.refresh();
    };
    this.subs.push(view, view.onDidChangeVisibility(tick));
    tick();
  }

  dispose(): void {
    if (this.clock) clearInterval(this.clock);
    for (const s of this.subs) s.dispose();
  }

  private render(): void {
    if (this.view) {
      const n = this.model.all().length;
      // (no runs: the view's welcome text says how to start one)
      this.view.message = this.model.error ? `Cannot list runs: ${this.model.error}` : undefined;
      this.view.description = n ? `${n} run${n === 1 ? '' : 's'}` : undefined;
    }
    this.changed.fire(undefined);
  }

  getChildren(run?: Run): Run[] {
    return run ? this.model.children(run) : this.model.roots();
  }

  getParent(run: Run): Run | undefined {
    return run.parent ? this.model.get(run.parent) : undefined;
  }

  getTreeItem(run: Run): vscode.TreeItem {
    const kids = this.model.children(run).length > 0;
    const newest = this.model.roots()[0];
    const state = !kids ? vscode.TreeItemCollapsibleState.None
      : run === newest || run.status === 'running' ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(runLabel(run), state);
    item.id = run.id;
    item.description = describe(run);
    item.iconPath = statusIcon(run.status);
    item.tooltip = tooltip(run);
    item.contextValue = `run.${run.kind || 'run'}${run.status === 'running' ? '.running' : ''}`;
    item.accessibilityInformation = { label: `${run.operation} ${run.status} ${item.description}` };
    return item;
  }
}

export function runLabel(run: Run): string {
  const label = userLabel(run);
  return label ? `${run.short_id} ${label}` : run.short_id;
}

export function describe(run: Run): string {
  const parts = [run.operation || '?'];
  if (run.status === 'running') parts.push('running');
  else {
    const when = ago(run.stopped ?? run.started);
    if (when) parts.push(when);
    if (run.status !== 'completed') parts.push(run.status);
  }
  const s = headlineScalar(run);
  if (s) parts.push(`${s[0]} ${num(s[1])}`);
  return parts.join(' · ');
}

export function statusIcon(status: string): vscode.ThemeIcon {
  switch (status) {
    case 'running': return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'completed': return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'error': return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'terminated': return new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('charts.orange'));
    case 'pending': case 'staged': return new vscode.ThemeIcon('clock');
    default: return new vscode.ThemeIcon('question');
  }
}

function tooltip(run: Run): vscode.MarkdownString {
  // run data is user data: appendText escapes it (no HTML, no links, no commands)
  const md = new vscode.MarkdownString();
  md.supportHtml = false;
  md.isTrusted = false;
  md.appendMarkdown('**');
  md.appendText(run.operation || '?');
  md.appendMarkdown('** ');
  md.appendText(`${run.short_id} · ${run.status}${run.exit_status !== null && run.exit_status !== undefined ? ` (exit ${run.exit_status})` : ''}`);
  md.appendMarkdown('\n\n');
  if (run.label) { md.appendMarkdown('label: '); md.appendText(run.label); md.appendMarkdown('\n\n'); }
  const when = [run.started ? `started ${new Date(run.started).toLocaleString()}` : '', duration(run.duration)].filter(Boolean).join(' · ');
  if (when) { md.appendText(when); md.appendMarkdown('\n\n'); }
  const flags = Object.entries(userFlags(run.flags));
  if (flags.length) {
    md.appendMarkdown('**flags**\n\n');
    for (const [k, v] of flags) { md.appendMarkdown('- '); md.appendText(`${k}: ${flagValue(v)}`); md.appendMarkdown('\n'); }
    md.appendMarkdown('\n');
  }
  const deps = Object.entries(run.flags ?? {}).filter(([k]) => isDependencyFlag(k));
  if (deps.length) {
    md.appendMarkdown('**required runs**\n\n');
    for (const [k, v] of deps) { md.appendMarkdown('- '); md.appendText(`${k.slice('operation:'.length)}: ${String(v).slice(0, 8)}`); md.appendMarkdown('\n'); }
    md.appendMarkdown('\n');
  }
  const scalars = Object.entries(run.scalars ?? {});
  if (scalars.length) {
    md.appendMarkdown('**scalars**\n\n');
    for (const [k, s] of scalars) {
      md.appendMarkdown('- ');
      md.appendText(`${k}: ${num(s?.last)}${s?.step !== null && s?.step !== undefined ? ` (step ${s.step})` : ''}`);
      md.appendMarkdown('\n');
    }
    md.appendMarkdown('\n');
  }
  if (run.tags?.length) { md.appendMarkdown('tags: '); md.appendText(run.tags.join(', ')); md.appendMarkdown('\n\n'); }
  md.appendText(run.dir);
  return md;
}
