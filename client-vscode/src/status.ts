// The Guild status bar item: server state, active runs, cold-start figures.
import * as vscode from 'vscode';

export type ServerState = 'starting' | 'ready' | 'error' | 'stopped';

let item: vscode.StatusBarItem;
let serverState: ServerState = 'stopped';
let serverError = '';
let pythonDesc = '';
let coldStartText = '';
let running: string[] = [];

// While the server is ready and nothing runs, the only "Guild" in the status bar is the
// editor's language mode: the server's state sits in the language status item (the `{}`
// beside it) instead of a second "Guild" item.
let langItem: vscode.LanguageStatusItem | undefined;

export function initStatus(context: vscode.ExtensionContext): void {
  item = vscode.window.createStatusBarItem('guildls.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Guild';
  context.subscriptions.push(item);
  langItem = vscode.languages.createLanguageStatusItem('guildls.server', { language: 'guild' });
  langItem.name = 'guildls';
  langItem.command = { title: 'Show Output', command: 'guild.showOutput' };
  context.subscriptions.push(langItem);
}

export function getServerState(): ServerState {
  return serverState;
}

export function setServerState(s: ServerState, error = ''): void {
  serverState = s;
  serverError = error;
  updateStatus();
}

export function setPythonDesc(text: string): void {
  pythonDesc = text;
}

export function setColdStart(text: string): void {
  coldStartText = text;
  updateStatus();
}

/** Operations of the runs in progress (shown in the item; clicking it stops one). */
export function setRunning(operations: string[]): void {
  running = operations;
  updateStatus();
}

export function updateStatus(): void {
  void vscode.commands.executeCommand('setContext', 'guildls.running', running.length > 0);
  const tip = new vscode.MarkdownString(undefined, true);
  tip.appendMarkdown(`**guildls**: ${serverState}${serverError ? ` — ${serverError}` : ''}\n\n`);
  if (pythonDesc) tip.appendMarkdown(`${pythonDesc}\n\n`);
  if (coldStartText) tip.appendMarkdown(`cold start: ${coldStartText}\n\n`);
  if (!vscode.workspace.isTrusted) tip.appendMarkdown('Restricted Mode: runs are disabled\n\n');
  item.backgroundColor = undefined;
  if (running.length > 0) {
    const names = running.join(', ');
    item.text = `$(sync~spin) Guild: ${names}`;
    tip.appendMarkdown(`running: ${names} — click to stop`);
    item.command = 'guild.stopRun';
  } else if (serverState === 'starting') {
    item.text = '$(loading~spin) Guild: starting';
    item.command = 'guild.showOutput';
  } else if (serverState === 'ready') {
    item.text = '$(check) Guild';
    item.command = 'guild.showOutput';
  } else if (serverState === 'error') {
    item.text = '$(error) Guild: error';
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    item.command = 'guild.showOutput';
  } else {
    item.text = '$(circle-slash) Guild: stopped';
    item.command = 'guild.restartServer';
  }
  item.tooltip = tip;
  if (langItem) {
    langItem.text = `guildls: ${serverState}`;
    langItem.detail = pythonDesc || undefined;
    langItem.busy = serverState === 'starting' || running.length > 0;
    langItem.severity = serverState === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
  }
  if (serverState === 'ready' && running.length === 0) item.hide();
  else item.show();
}
