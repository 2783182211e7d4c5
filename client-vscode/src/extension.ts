// guildls VS Code extension: starts the guildls language server
// (`python -m guildls serve`, stdio) for guild files, and gives its workflow
// runs a home in the editor. This file only wires the modules together:
//   server.ts      find Python (python.ts), start/restart the language client
//   commands.ts    the Guild: commands and the lens command hook
//   runs/          runs in progress (live.ts), the Guild Runs view and its actions
//   webviews/      Compare, Plots, workflow graph panels (their pages: webview-ui/)
//   plan.ts        Show Plan documents
//   status.ts      the status bar item; coldStart.ts its start-up figures
import * as vscode from 'vscode';
import { markActivated } from './coldStart';
import { registerCommands } from './commands';
import { ext, initContext } from './context';
import { initPlans } from './plan';
import { watchPythonExtension } from './python';
import { initRunsViews } from './runs';
import { initLiveRuns } from './runs/live';
import { restartClient, startClient, stopClient } from './server';
import { initStatus, updateStatus } from './status';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  markActivated(context);
  initContext(context);
  initStatus(context);
  initLiveRuns(context); // before the server starts: its notification handlers
  registerCommands(context);
  // the server first: everything else is set up while it starts
  const started = startClient();
  ext.log.info(`guildls extension ${context.extension.packageJSON.version} activated`);
  initPlans(context);
  initRunsViews(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['guildls.python', 'guildls.serverArgs', 'guildls.importStrategy'].some((k) => e.affectsConfiguration(k))) {
        void restartClient('settings changed');
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => updateStatus()),
  );
  void watchPythonExtension(context, () => {
    const configured = vscode.workspace.getConfiguration('guildls').get<string>('python', '').trim();
    if (!configured) void restartClient('Python extension interpreter changed');
  });
  await started;
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
