// The Guild: commands (Run Workflow, Show Plan, Stop Run, Restart, Show
// Output), and the hook that routes the server's own lens commands
// (guildls.runWorkflow, guildls.showPlan) through the same code.
import * as vscode from 'vscode';
import { ext } from './context';
import { operationArg, SERVER_PLAN } from './operations';
import { showPlanResult } from './plan';
import { activeRun, activeRuns, RunArg, runWorkflow } from './runs/live';
import { restartClient, sendServerCommand, setExecuteCommandHook } from './server';
import { errText } from './util';

const SERVER_RUN = 'guildls.runWorkflow';
const SERVER_STOP = 'guildls.stopRun';

export function registerCommands(context: vscode.ExtensionContext): void {
  setExecuteCommandHook((command, args, next) => {
    if (command === SERVER_RUN) return runWorkflow(args, next);
    if (command === SERVER_PLAN) {
      return (async () => {
        const result = await next(args);
        await showPlanResult(result, args[0] as RunArg | undefined);
        return result;
      })();
    }
    return undefined;
  });
  context.subscriptions.push(
    vscode.commands.registerCommand('guild.runWorkflow', cmdRunWorkflow),
    vscode.commands.registerCommand('guild.showPlan', cmdShowPlan),
    vscode.commands.registerCommand('guild.stopRun', cmdStopRun),
    vscode.commands.registerCommand('guild.restartServer', () => restartClient('command')),
    vscode.commands.registerCommand('guild.showOutput', () => ext.log.show()),
  );
}

async function cmdRunWorkflow(arg?: RunArg): Promise<unknown> {
  const op = await operationArg(arg, 'Guild: Run Workflow');
  if (!op) return undefined;
  return runWorkflow([op], (a) => sendServerCommand(SERVER_RUN, a[0]));
}

async function cmdShowPlan(arg?: RunArg): Promise<unknown> {
  const op = await operationArg(arg, 'Guild: Show Plan');
  if (!op) return undefined;
  try {
    const result = await sendServerCommand(SERVER_PLAN, op);
    await showPlanResult(result, op);
    return result;
  } catch (e) {
    void vscode.window.showErrorMessage(`Guild: could not show the plan of '${op.operation}': ${errText(e)}`);
    return undefined;
  }
}

async function cmdStopRun(arg?: { runId?: string }): Promise<unknown> {
  let runId = arg?.runId;
  if (!runId) {
    const active = activeRuns();
    if (active.length === 0) {
      void vscode.window.showInformationMessage('Guild: no run in progress.');
      return undefined;
    }
    if (active.length === 1) runId = active[0].runId;
    else {
      const pick = await vscode.window.showQuickPick(
        active.map((r) => ({ label: r.operation, description: `run ${r.runId}`, runId: r.runId })), { title: 'Guild: Stop Run' });
      runId = pick?.runId;
    }
  }
  if (!runId) return undefined;
  try {
    const result = await sendServerCommand(SERVER_STOP, { runId }) as { stopped?: boolean } | undefined;
    activeRun(runId)?.channel.appendLine(result?.stopped ? '■ stop requested' : '■ the server did not stop this run (already finished?)');
    return result;
  } catch (e) {
    void vscode.window.showErrorMessage(`Guild: could not stop the run: ${errText(e)}`);
    return undefined;
  }
}
