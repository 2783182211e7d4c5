// Runs in progress: an output channel per operation that streams the
// server's guildls/runStarted|runOutput|runFinished notifications, and the
// one place every run starts from (code lenses and commands alike).
import * as vscode from 'vscode';
import { ext } from '../context';
import { onServerNotification, onServerRestart } from '../server';
import { setRunning } from '../status';
import { errText } from '../util';

export interface RunArg { uri?: string; operation?: string; flags?: Record<string, unknown> }
export interface RunInfo { runId: string; operation: string; uri?: string; channel: vscode.OutputChannel; started: number }

const runs = new Map<string, RunInfo>();
const finishedRuns = new Set<string>();
const pendingOutput = new Map<string, string[]>();
const runChannels = new Map<string, vscode.OutputChannel>();

export function initLiveRuns(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    onServerNotification('guildls/runStarted', onRunStarted),
    onServerNotification('guildls/runOutput', onRunOutput),
    onServerNotification('guildls/runFinished', onRunFinished),
  );
  onServerRestart(() => {
    for (const r of runs.values()) r.channel.appendLine('■ language server restarted: this run is no longer tracked');
    runs.clear();
    runsChanged();
  });
}

export function activeRuns(): RunInfo[] {
  return [...runs.values()];
}

export function activeRun(runId: string): RunInfo | undefined {
  return runs.get(runId);
}

function runsChanged(): void {
  setRunning(activeRuns().map((r) => r.operation));
}

function runChannel(operation: string): vscode.OutputChannel {
  let ch = runChannels.get(operation);
  if (!ch) {
    ch = vscode.window.createOutputChannel(`Guild Run: ${operation}`);
    runChannels.set(operation, ch);
    ext.ctx.subscriptions.push(ch);
  }
  return ch;
}

// Every run goes through here: code lenses (the server's guildls.runWorkflow,
// via the client's middleware) and the Guild: Run Workflow command.
export async function runWorkflow(args: unknown[], send: (args: unknown[]) => Thenable<unknown> | unknown): Promise<unknown> {
  const arg = (args[0] ?? {}) as RunArg;
  const op = arg.operation ?? '?';
  if (!vscode.workspace.isTrusted) {
    const msg = `Guild: not running '${op}': this workspace is not trusted. A run executes the operation's commands from this workspace, so runs are disabled in Restricted Mode. Trust the workspace to run workflows.`;
    ext.log.warn(msg);
    void vscode.window.showWarningMessage(msg, 'Manage Workspace Trust').then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return undefined;
  }
  const ch = runChannel(op);
  ch.clear();
  ch.appendLine(`▶ ${op} — ${arg.uri ? vscode.Uri.parse(arg.uri).fsPath : ''} — ${new Date().toLocaleString()}`);
  ch.show(true);
  let result: any;
  try {
    result = await send(args);
  } catch (e) {
    ch.appendLine(`✗ could not start: ${errText(e)}`);
    void vscode.window.showErrorMessage(`Guild: could not run '${op}': ${errText(e)}`);
    return undefined;
  }
  const runId: string | undefined = result?.runId;
  if (runId && !finishedRuns.has(runId) && !runs.has(runId)) {
    registerRun(runId, op, arg.uri, ch);
  } else if (!runId) {
    ch.appendLine(`(server answered ${JSON.stringify(result)})`);
  }
  return result;
}

function registerRun(runId: string, operation: string, uri: string | undefined, ch: vscode.OutputChannel): RunInfo {
  const info: RunInfo = { runId, operation, uri, channel: ch, started: Date.now() };
  runs.set(runId, info);
  for (const text of pendingOutput.get(runId) ?? []) ch.append(text);
  pendingOutput.delete(runId);
  runsChanged();
  return info;
}

function onRunStarted(p: { runId: string; operation: string; uri?: string }): void {
  if (runs.has(p.runId) || finishedRuns.has(p.runId)) return;
  const ch = runChannel(p.operation);
  ch.show(true);
  registerRun(p.runId, p.operation, p.uri, ch);
}

function onRunOutput(p: { runId: string; text: string }): void {
  const r = runs.get(p.runId);
  if (r) {
    r.channel.append(p.text);
  } else {
    const buf = pendingOutput.get(p.runId) ?? [];
    buf.push(p.text);
    pendingOutput.set(p.runId, buf);
  }
}

function onRunFinished(p: { runId: string; exitCode?: number | null; status?: string }): void {
  finishedRuns.add(p.runId);
  let r = runs.get(p.runId);
  if (!r && pendingOutput.has(p.runId)) r = registerRun(p.runId, '?', undefined, runChannel('?'));
  runs.delete(p.runId);
  runsChanged();
  if (!r) return;
  const secs = ((Date.now() - r.started) / 1000).toFixed(1);
  const st = p.status ?? (p.exitCode === 0 ? 'completed' : 'failed');
  r.channel.appendLine(`\n■ ${r.operation} ${st} (exit code ${p.exitCode ?? '-'}) after ${secs} s`);
  const ok = p.exitCode === 0 || st === 'completed';
  if (ok) {
    void vscode.window.showInformationMessage(`Guild: '${r.operation}' ${st}.`, 'Show Output')
      .then((pick) => { if (pick) r!.channel.show(true); });
  } else if (st !== 'stopped' && st !== 'terminated' && st !== 'cancelled') {
    void vscode.window.showErrorMessage(`Guild: '${r.operation}' ${st} (exit code ${p.exitCode ?? '-'}).`, 'Show Output')
      .then((pick) => { if (pick) r!.channel.show(true); });
  }
}
