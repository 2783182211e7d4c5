// The language client: find Python, start `python -m guildls serve` (stdio),
// restart it, and send it commands. Other modules subscribe to server
// notifications through onServerNotification (kept across restarts) and hook
// workspace/executeCommand through setExecuteCommandHook.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { firstDiagnosticsSeen, markReady, markSpawn, noteFirstDiagnostics, sinceActivation } from './coldStart';
import { CLIENT_NAME, ext } from './context';
import { takeOverProgress } from './progress';
import { checkPythonCached, forgetPythonCheck, MIN_PYTHON, resolvePython } from './python';
import { getServerState, setPythonDesc, setServerState } from './status';
import { errText, GUILD_GLOB } from './util';

const CLIENT_ID = 'guildls';

/** Handles a workspace/executeCommand the client sends (code lenses included); `next` sends it on. */
export type ExecuteCommandHook = (command: string, args: unknown[], next: (args: unknown[]) => Promise<unknown>) => Promise<unknown> | undefined;

let client: LanguageClient | undefined;
let clientStarting: Promise<void> | undefined;
let executeHook: ExecuteCommandHook | undefined;
let lensHook: ((lenses: vscode.CodeLens[]) => vscode.CodeLens[]) | undefined;
const notificationHandlers = new Map<string, Set<(params: unknown) => void>>();
const restartListeners: (() => void)[] = [];
const readyListeners = new Set<() => void>();

export function setExecuteCommandHook(hook: ExecuteCommandHook): void {
  executeHook = hook;
}

/** Adds to (or changes) the code lenses the server gives a document. */
export function setCodeLensHook(hook: (lenses: vscode.CodeLens[]) => vscode.CodeLens[]): void {
  lensHook = hook;
}

/**
 * Registers a handler for a server notification on the current and every later
 * client. Several modules may listen to one notification (the language client
 * keeps one handler per method: this fans out).
 */
export function onServerNotification<P>(method: string, handler: (params: P) => void): vscode.Disposable {
  let set = notificationHandlers.get(method);
  if (!set) {
    set = new Set();
    notificationHandlers.set(method, set);
    client?.onNotification(method, (params: unknown) => dispatch(method, params));
  }
  set.add(handler as (params: unknown) => void);
  return new vscode.Disposable(() => set!.delete(handler as (params: unknown) => void));
}

function dispatch(method: string, params: unknown): void {
  for (const h of [...(notificationHandlers.get(method) ?? [])]) {
    try {
      h(params);
    } catch (e) {
      ext.log.error(`handling ${method}: ${errText(e)}`);
    }
  }
}

/** Called when the server is restarted (runs it was tracking are no longer followed). */
export function onServerRestart(listener: () => void): void {
  restartListeners.push(listener);
}

/** Called each time a server (re)starts and answers. */
export function onServerReady(listener: () => void): vscode.Disposable {
  readyListeners.add(listener);
  return new vscode.Disposable(() => readyListeners.delete(listener));
}

export function isServerRunning(): boolean {
  return !!client && client.state === State.Running;
}

export async function sendServerCommand(command: string, arg: unknown): Promise<unknown> {
  if (!client || client.state !== State.Running) throw new Error('the guildls language server is not running');
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
}

export async function startClient(): Promise<void> {
  if (clientStarting) return clientStarting;
  clientStarting = doStartClient().finally(() => { clientStarting = undefined; });
  return clientStarting;
}

export async function stopClient(): Promise<void> {
  if (client) await client.stop().catch(() => undefined);
}

async function doStartClient(): Promise<void> {
  const { ctx, log } = ext;
  setServerState('starting');
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const cfg = vscode.workspace.getConfiguration('guildls', resource);
  let python = await resolvePython(resource);
  // In an untrusted workspace never run an interpreter that lives in it (a .venv the
  // Python extension picked could be anything): a system interpreter runs the bundled
  // server instead, and the log and status say so.
  const untrusted = !vscode.workspace.isTrusted && interpreterInWorkspace(python.command);
  if (untrusted) {
    log.warn(`untrusted workspace: not running ${python.command} (${python.source}), which lives in the workspace; using the system Python and the bundled guildls`);
    python = { command: process.platform === 'win32' ? 'python' : 'python3', source: 'system Python: untrusted workspace' };
  }
  const checked = await checkPythonCached(python.command);
  if (!checked.ok) {
    const msg = `Guild: cannot start the language server: the Python interpreter "${python.command}" (${python.source}) ${checked.problem}. guildls needs Python ${MIN_PYTHON.join('.')} or newer.`;
    log.error(msg);
    setServerState('error', msg);
    void vscode.window.showErrorMessage(msg, 'Open Setting', 'Show Output').then((pick) => {
      if (pick === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openSettings', 'guildls.python');
      else if (pick === 'Show Output') log.show();
    });
    return;
  }
  let pythonDesc = `Python ${checked.version} (${checked.executable}, ${python.source})`;

  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  const libs = path.join(ctx.extensionPath, 'bundled', 'libs');
  const launcher = path.join(ctx.extensionPath, 'python', 'guildls_launcher.py');
  const strategy = cfg.get<string>('importStrategy', 'useBundled');
  const serverArgs = cfg.get<string[]>('serverArgs', []);
  let args: string[];
  // -I (isolated mode): neither the working directory (the workspace) nor PYTHON*
  // variables reach the server's sys.path, so no workspace file can shadow a module
  if ((strategy === 'useBundled' || untrusted) && fs.existsSync(path.join(libs, 'guildls')) && fs.existsSync(launcher)) {
    // the launcher puts bundled/libs first on the server's sys.path (not on
    // PYTHONPATH, which would leak into the user's operations during runs)
    args = ['-I', launcher, 'serve', ...serverArgs];
    pythonDesc += ', bundled guildls';
  } else {
    if (strategy === 'useBundled') log.warn(`no bundled guildls in ${libs}: using the one installed for ${python.command}`);
    args = ['-I', '-m', 'guildls', 'serve', ...serverArgs];
    pythonDesc += ', guildls from the environment';
  }
  if (untrusted) pythonDesc += ' (untrusted workspace: the workspace interpreter is not used)';
  setPythonDesc(pythonDesc);
  log.info(`starting: ${checked.executable || python.command} ${args.join(' ')} — ${pythonDesc}`);
  const serverOptions: ServerOptions = {
    // the interpreter itself (sys.executable), not a shim such as pyenv's: faster start
    command: checked.executable || python.command,
    args,
    options: { env, cwd: resource?.scheme === 'file' ? resource.fsPath : undefined },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'guild' },
      // guild files a user re-associated with plain YAML (files.associations)
      { scheme: 'file', language: 'yaml', pattern: GUILD_GLOB },
    ],
    outputChannel: log,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // guildls.severity: per-code severity overrides (the server also reads [tool.guildls] in pyproject.toml);
    // guildls.maxDiagnostics: diagnostics per file (VS Code shows 1,000 at most)
    initializationOptions: {
      severity: vscode.workspace.getConfiguration('guildls', resource).get('severity') ?? {},
      maxDiagnostics: vscode.workspace.getConfiguration('guildls', resource).get('maxDiagnostics') ?? 1000,
    },
    synchronize: { fileEvents: guildFileWatcher(), configurationSection: 'guildls' },
    middleware: {
      executeCommand: async (command, cmdArgs, next) => {
        const hooked = executeHook?.(command, cmdArgs, async (a) => next(command, a));
        if (hooked) return hooked;
        return next(command, cmdArgs);
      },
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        return lenses && lensHook ? lensHook(lenses) : lenses;
      },
      handleDiagnostics: (uri, diagnostics, next) => {
        if (!firstDiagnosticsSeen()) noteFirstDiagnostics(uri, diagnostics.length);
        next(uri, diagnostics);
      },
    },
  };
  const lc = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  client = lc;
  lc.onDidChangeState((e) => {
    if (lc !== client) return;
    if (e.newState === State.Running) {
      setServerState('ready');
      for (const l of readyListeners) l();
      setTimeout(() => takeOverProgress(lc), 0); // again after an automatic restart (the client's own handler comes back)
    }
    else if (e.newState === State.Starting) setServerState('starting');
    else if (e.newState === State.Stopped && getServerState() !== 'error') setServerState('stopped');
  });
  for (const method of notificationHandlers.keys()) lc.onNotification(method, (params: unknown) => dispatch(method, params));
  try {
    markSpawn();
    await lc.start();
    takeOverProgress(lc);
    markReady();
    log.info(`server ready ${sinceActivation()} ms after activation`);
    setServerState('ready');
  } catch (e) {
    await forgetPythonCheck(python.command); // check the interpreter again next time
    const msg = `Guild: the language server failed to start: ${errText(e)}`;
    log.error(msg);
    setServerState('error', msg);
    void vscode.window.showErrorMessage(msg, 'Show Output', 'Open Setting').then((pick) => {
      if (pick === 'Show Output') log.show();
      else if (pick === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openSettings', 'guildls.python');
    });
  }
}

export async function restartClient(reason: string): Promise<void> {
  ext.log.info(`restarting the language server (${reason})`);
  if (clientStarting) await clientStarting.catch(() => undefined);
  const old = client;
  client = undefined;
  if (old) {
    try {
      if (old.state !== State.Stopped) await old.stop(5000);
    } catch (e) {
      ext.log.warn(`stopping the old server: ${errText(e)}`);
    }
    await old.dispose().catch(() => undefined);
  }
  for (const l of restartListeners) l();
  await startClient();
}

let watcher: vscode.FileSystemWatcher | undefined;
function guildFileWatcher(): vscode.FileSystemWatcher {
  if (!watcher) {
    watcher = vscode.workspace.createFileSystemWatcher(GUILD_GLOB);
    ext.ctx.subscriptions.push(watcher);
  }
  return watcher;
}

/** True when the interpreter path lies inside one of the workspace folders. */
function interpreterInWorkspace(command: string): boolean {
  if (!command.includes('/') && !command.includes('\\')) return false; // found on PATH
  const exe = path.resolve(command);
  return (vscode.workspace.workspaceFolders ?? []).some((f) => {
    if (f.uri.scheme !== 'file') return false;
    const rel = path.relative(f.uri.fsPath, exe);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}
