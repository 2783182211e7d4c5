// The Guild status bar item: server state, active runs, cold-start figures.
import * as vscode from 'vscode';

export type ServerState = 'starting' | 'ready' | 'error' | 'stopped';

let item: vscode.StatusBarItem;
let serverState: ServerState = 'stopped';
let serverError = '';
let pythonDesc = '';
let coldStartText = '';
let running: string[] = [];

export function initStatus(context: vscode.ExtensionContext): void {
  item = vscode.window.createStatusBarItem('guildls.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Guild';
  context.subscriptions.push(item);
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
  item.show();
}
