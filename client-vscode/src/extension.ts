// guildls VS Code extension: starts the guildls language server
// (`python -m guildls serve`, stdio) for guild files, and gives its workflow
// runs a home in the editor: an output channel per run, a status bar item,
// commands, and the workspace-trust check.
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateParams,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';

const CLIENT_ID = 'guildls';
const CLIENT_NAME = 'Guild Language Server';
const MIN_PYTHON: [number, number] = [3, 9];
const GUILD_GLOB = '**/{guild.yml,guild.yaml,*.guild.yml,*.guild.yaml}';
const SERVER_RUN = 'guildls.runWorkflow';
const SERVER_PLAN = 'guildls.showPlan';
const SERVER_STOP = 'guildls.stopRun';
const PLAN_SCHEME = 'guild-plan';

interface RunArg { uri?: string; operation?: string; flags?: Record<string, unknown> }
interface RunInfo { runId: string; operation: string; uri?: string; channel: vscode.OutputChannel; started: number }
interface PythonChoice { command: string; source: string }

let ctx: vscode.ExtensionContext;
let log: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let client: LanguageClient | undefined;
let clientStarting: Promise<void> | undefined;
let serverState: 'starting' | 'ready' | 'error' | 'stopped' = 'stopped';
let serverError = '';
let pythonDesc = '';
const runs = new Map<string, RunInfo>();
const finishedRuns = new Set<string>();
const pendingOutput = new Map<string, string[]>();
const runChannels = new Map<string, vscode.OutputChannel>();
const plans = new Map<string, string>();
let planCounter = 0;

// cold start: time from activation to the first diagnostics the server publishes
let tActivate = Date.now();
let tDocOpen: number | undefined; // first guild document open in the editor (ms after activation)
let tReady: number | undefined;
let tSpawn: number | undefined; // server process started (ms after activation)
let tFirstDiagnostics: number | undefined;
let coldStartText = '';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = context;
  tActivate = Date.now();
  log = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  status = vscode.window.createStatusBarItem('guildls.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'Guild';
  context.subscriptions.push(log, status);
  if (vscode.workspace.textDocuments.some(isGuildDocument)) tDocOpen = 0;
  // the server first: everything else is set up while it starts
  const started = startClient();
  log.info(`guildls extension ${context.extension.packageJSON.version} activated`);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (tDocOpen === undefined && isGuildDocument(d)) tDocOpen = Date.now() - tActivate;
    }),
    vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, {
      provideTextDocumentContent: (uri) => plans.get(uri.toString()) ?? '',
    }),
    vscode.commands.registerCommand('guild.runWorkflow', cmdRunWorkflow),
    vscode.commands.registerCommand('guild.showPlan', cmdShowPlan),
    vscode.commands.registerCommand('guild.stopRun', cmdStopRun),
    vscode.commands.registerCommand('guild.restartServer', () => restartClient('command')),
    vscode.commands.registerCommand('guild.showOutput', () => log.show()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['guildls.python', 'guildls.serverArgs', 'guildls.importStrategy'].some((k) => e.affectsConfiguration(k))) {
        void restartClient('settings changed');
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => updateStatus()),
  );
  void watchPythonExtension(context);
  await started;
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop().catch(() => undefined);
}

function isGuildDocument(d: vscode.TextDocument): boolean {
  if (d.languageId === 'guild') return true;
  return d.uri.scheme === 'file' && /(^|\.)guild\.ya?ml$/.test(path.basename(d.uri.fsPath));
}

// ---------------------------------------------------------------- server start

async function startClient(): Promise<void> {
  if (clientStarting) return clientStarting;
  clientStarting = doStartClient().finally(() => { clientStarting = undefined; });
  return clientStarting;
}

async function doStartClient(): Promise<void> {
  setServerState('starting');
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const cfg = vscode.workspace.getConfiguration('guildls', resource);
  const python = await resolvePython(resource);
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
  pythonDesc = `Python ${checked.version} (${checked.executable}, ${python.source})`;

  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  const libs = path.join(ctx.extensionPath, 'bundled', 'libs');
  const launcher = path.join(ctx.extensionPath, 'python', 'guildls_launcher.py');
  const strategy = cfg.get<string>('importStrategy', 'useBundled');
  const serverArgs = cfg.get<string[]>('serverArgs', []);
  let args: string[];
  if (strategy === 'useBundled' && fs.existsSync(path.join(libs, 'guildls')) && fs.existsSync(launcher)) {
    // the launcher puts bundled/libs first on the server's sys.path (not on
    // PYTHONPATH, which would leak into the user's operations during runs)
    args = [launcher, 'serve', ...serverArgs];
    pythonDesc += ', bundled guildls';
  } else {
    if (strategy === 'useBundled') log.warn(`no bundled guildls in ${libs}: using the one installed for ${python.command}`);
    args = ['-m', 'guildls', 'serve', ...serverArgs];
    pythonDesc += ', guildls from the environment';
  }
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
    synchronize: { fileEvents: guildFileWatcher() },
    middleware: {
      executeCommand: async (command, cmdArgs, next) => {
        if (command === SERVER_RUN) return runWorkflow(cmdArgs, (a) => next(command, a));
        if (command === SERVER_PLAN) {
          const result = await next(command, cmdArgs);
          await showPlanResult(result, cmdArgs[0] as RunArg | undefined);
          return result;
        }
        return next(command, cmdArgs);
      },
      handleDiagnostics: (uri, diagnostics, next) => {
        if (tFirstDiagnostics === undefined) noteFirstDiagnostics(uri, diagnostics.length);
        next(uri, diagnostics);
      },
    },
  };
  const lc = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  client = lc;
  const takeOverProgress = () => lc.onRequest(WorkDoneProgressCreateRequest.type, (params) => trackProgress(lc, params));
  lc.onDidChangeState((e) => {
    if (lc !== client) return;
    if (e.newState === State.Running) {
      setServerState('ready');
      setTimeout(takeOverProgress, 0); // again after an automatic restart (the client's own handler comes back)
    }
    else if (e.newState === State.Starting) setServerState('starting');
    else if (e.newState === State.Stopped && serverState !== 'error') setServerState('stopped');
  });
  lc.onNotification('guildls/runStarted', onRunStarted);
  lc.onNotification('guildls/runOutput', onRunOutput);
  lc.onNotification('guildls/runFinished', onRunFinished);
  try {
    if (tSpawn === undefined) tSpawn = Date.now() - tActivate;
    await lc.start();
    // vscode-languageclient shows server-created work done progress in the
    // status bar only, without a Cancel button: take over
    // window/workDoneProgress/create so that cancellable progress (a run)
    // becomes a notification whose Cancel sends window/workDoneProgress/cancel.
    takeOverProgress();
    if (tReady === undefined) tReady = Date.now() - tActivate;
    log.info(`server ready ${Date.now() - tActivate} ms after activation`);
    setServerState('ready');
  } catch (e) {
    await ctx.globalState.update(`pythonCheck:${python.command}`, undefined); // check the interpreter again next time
    const msg = `Guild: the language server failed to start: ${errText(e)}`;
    log.error(msg);
    setServerState('error', msg);
    void vscode.window.showErrorMessage(msg, 'Show Output', 'Open Setting').then((pick) => {
      if (pick === 'Show Output') log.show();
      else if (pick === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openSettings', 'guildls.python');
    });
  }
}

async function restartClient(reason: string): Promise<void> {
  log.info(`restarting the language server (${reason})`);
  if (clientStarting) await clientStarting.catch(() => undefined);
  const old = client;
  client = undefined;
  if (old) {
    try {
      if (old.state !== State.Stopped) await old.stop(5000);
    } catch (e) {
      log.warn(`stopping the old server: ${errText(e)}`);
    }
    await old.dispose().catch(() => undefined);
  }
  for (const r of runs.values()) r.channel.appendLine('■ language server restarted: this run is no longer tracked');
  runs.clear();
  updateStatus();
  await startClient();
}

let watcher: vscode.FileSystemWatcher | undefined;
function guildFileWatcher(): vscode.FileSystemWatcher {
  if (!watcher) {
    watcher = vscode.workspace.createFileSystemWatcher(GUILD_GLOB);
    ctx.subscriptions.push(watcher);
  }
  return watcher;
}

function noteFirstDiagnostics(uri: vscode.Uri, count: number): void {
  tFirstDiagnostics = Date.now() - tActivate;
  const open = tDocOpen ?? tFirstDiagnostics;
  coldStartText = `activation → server process ${tSpawn ?? '?'} ms → server ready ${tReady ?? '?'} ms, activation → first diagnostics ${tFirstDiagnostics} ms` +
    ` (guild document open at +${open} ms, open → diagnostics ${tFirstDiagnostics - open} ms)`;
  log.info(`cold start: ${coldStartText}; ${count} diagnostic(s) for ${uri.fsPath}`);
  updateStatus();
}

// ---------------------------------------------------------------- python

async function resolvePython(resource?: vscode.Uri): Promise<PythonChoice> {
  const configured = vscode.workspace.getConfiguration('guildls', resource).get<string>('python', '').trim();
  if (configured) return { command: expandPath(configured, resource), source: 'setting guildls.python' };
  const fromExt = await pythonFromPythonExtension(resource);
  if (fromExt) return { command: fromExt, source: 'Python extension interpreter' };
  return { command: process.platform === 'win32' ? 'python' : 'python3', source: 'default' };
}

function expandPath(p: string, resource?: vscode.Uri): string {
  const folder = (resource && vscode.workspace.getWorkspaceFolder(resource)) || vscode.workspace.workspaceFolders?.[0];
  let out = p.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '').replace(/\$\{userHome\}/g, os.homedir());
  if (out === '~' || out.startsWith('~/')) out = path.join(os.homedir(), out.slice(1));
  return out;
}

async function pythonFromPythonExtension(resource?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (!ext) return undefined;
  try {
    if (!ext.isActive) await withTimeout(Promise.resolve(ext.activate()), 5000);
    const api = ext.exports as any;
    const envs = api?.environments;
    if (envs?.getActiveEnvironmentPath) {
      const envPath = envs.getActiveEnvironmentPath(resource);
      const resolved = await withTimeout(Promise.resolve(envs.resolveEnvironment(envPath)), 5000) as any;
      const exe = resolved?.executable?.uri?.fsPath ?? envPath?.path;
      if (exe) return exe;
    }
    const details = api?.settings?.getExecutionDetails?.(resource);
    if (details?.execCommand?.length) return details.execCommand[0];
  } catch (e) {
    log.warn(`could not ask the Python extension for its interpreter: ${errText(e)}`);
  }
  return undefined;
}

async function watchPythonExtension(context: vscode.ExtensionContext): Promise<void> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (!ext) return;
  try {
    if (!ext.isActive) await withTimeout(Promise.resolve(ext.activate()), 10000);
    const envs = (ext.exports as any)?.environments;
    if (envs?.onDidChangeActiveEnvironmentPath) {
      context.subscriptions.push(envs.onDidChangeActiveEnvironmentPath(() => {
        const configured = vscode.workspace.getConfiguration('guildls').get<string>('python', '').trim();
        if (!configured) void restartClient('Python extension interpreter changed');
      }));
    }
  } catch {
    // the Python extension is optional
  }
}

// The interpreter check costs a process start (a few hundred ms in a busy
// editor): remember a good answer per command, while the interpreter file is unchanged.
async function checkPythonCached(command: string): Promise<PythonCheck> {
  const key = `pythonCheck:${command}`;
  const cached = ctx.globalState.get<{ version: string; executable: string; mtime: number }>(key);
  if (cached) {
    try {
      if (fs.statSync(cached.executable).mtimeMs === cached.mtime) return { ok: true, version: cached.version, executable: cached.executable };
    } catch {
      // gone: check again
    }
  }
  const res = await checkPython(command);
  if (res.ok) {
    try {
      await ctx.globalState.update(key, { version: res.version, executable: res.executable, mtime: fs.statSync(res.executable).mtimeMs });
    } catch {
      // not cached
    }
  } else if (cached) {
    await ctx.globalState.update(key, undefined);
  }
  return res;
}

type PythonCheck = { ok: true; version: string; executable: string } | { ok: false; problem: string };

function checkPython(command: string): Promise<PythonCheck> {
  const code = 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)';
  return new Promise((resolve) => {
    cp.execFile(command, ['-c', code], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') return resolve({ ok: false, problem: 'was not found' });
        if (e.code === 'EACCES') return resolve({ ok: false, problem: 'is not executable' });
        return resolve({ ok: false, problem: `did not run (${(stderr || e.message).trim().split('\n').pop()})` });
      }
      const [version = '', executable = command] = stdout.trim().split(/\r?\n/);
      const [maj, min] = version.split('.').map(Number);
      if (!(maj > MIN_PYTHON[0] || (maj === MIN_PYTHON[0] && min >= MIN_PYTHON[1]))) {
        return resolve({ ok: false, problem: `is Python ${version || 'of unknown version'}, too old` });
      }
      resolve({ ok: true, version, executable });
    });
  });
}

// ---------------------------------------------------------------- progress

function trackProgress(lc: LanguageClient, params: WorkDoneProgressCreateParams): null {
  const token = params.token;
  let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  let done: (() => void) | undefined;
  let ended = false;
  let reported = 0;
  const report = (v: WorkDoneProgressBegin | WorkDoneProgressReport) => {
    if (!reporter) return;
    let increment: number | undefined;
    if (typeof v.percentage === 'number') {
      increment = Math.max(0, v.percentage - reported);
      reported = Math.max(reported, v.percentage);
    }
    reporter.report({ message: v.message, increment });
  };
  const sub = lc.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === 'begin') {
      const location = value.cancellable ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
      void vscode.window.withProgress({ location, title: value.title, cancellable: !!value.cancellable }, (progress, ct) => {
        reporter = progress;
        report(value);
        ct.onCancellationRequested(() => {
          log.info(`progress "${value.title}" cancelled by the user: window/workDoneProgress/cancel`);
          void lc.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        });
        return new Promise<void>((resolve) => { done = resolve; if (ended) resolve(); });
      });
    } else if (value.kind === 'report') {
      report(value);
    } else {
      ended = true;
      sub.dispose();
      done?.();
    }
  });
  return null;
}

// ---------------------------------------------------------------- runs

function runChannel(operation: string): vscode.OutputChannel {
  let ch = runChannels.get(operation);
  if (!ch) {
    ch = vscode.window.createOutputChannel(`Guild Run: ${operation}`);
    runChannels.set(operation, ch);
    ctx.subscriptions.push(ch);
  }
  return ch;
}

// Every run goes through here: code lenses (the server's guildls.runWorkflow,
// via the client's middleware) and the Guild: Run Workflow command.
async function runWorkflow(args: unknown[], send: (args: unknown[]) => Thenable<unknown> | unknown): Promise<unknown> {
  const arg = (args[0] ?? {}) as RunArg;
  const op = arg.operation ?? '?';
  if (!vscode.workspace.isTrusted) {
    const msg = `Guild: not running '${op}': this workspace is not trusted. A run executes the operation's commands from this workspace, so runs are disabled in Restricted Mode. Trust the workspace to run workflows.`;
    log.warn(msg);
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
  updateStatus();
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
  updateStatus();
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

async function showPlanResult(result: any, arg?: RunArg): Promise<void> {
  const text: string = typeof result?.text === 'string' ? result.text : JSON.stringify(result, null, 2);
  const op = arg?.operation ?? 'plan';
  const uri = vscode.Uri.parse(`${PLAN_SCHEME}:/${encodeURIComponent(op)}.plan?${++planCounter}`);
  plans.set(uri.toString(), text);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}

// ---------------------------------------------------------------- commands

interface OpChoice { operation: string; uri: string; range: vscode.Range; workflow: boolean }

async function operationsOf(doc: vscode.TextDocument): Promise<OpChoice[]> {
  const ops = new Map<string, OpChoice>();
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100)
    .then((x) => x ?? [], () => [] as vscode.CodeLens[]);
  for (const l of lenses) {
    const a = l.command?.arguments?.[0] as RunArg | undefined;
    if (!a?.operation) continue;
    const o = ops.get(a.operation) ?? { operation: a.operation, uri: a.uri ?? doc.uri.toString(), range: l.range, workflow: false };
    if (l.command?.command === SERVER_PLAN) o.workflow = true;
    ops.set(a.operation, o);
  }
  if (ops.size === 0) { // no lenses yet: fall back to the document symbols
    const syms = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri)
      .then((x) => x ?? [], () => [] as vscode.DocumentSymbol[]);
    const walk = (list: vscode.DocumentSymbol[]) => {
      for (const s of list) {
        if (s.kind === vscode.SymbolKind.Function || s.kind === vscode.SymbolKind.Method || s.kind === vscode.SymbolKind.Event) {
          ops.set(s.name, { operation: s.name, uri: doc.uri.toString(), range: s.range, workflow: /workflow/i.test(s.detail ?? '') });
        }
        walk(s.children ?? []);
      }
    };
    walk(syms);
  }
  return [...ops.values()];
}

async function operationAtCursor(editor: vscode.TextEditor, ops: OpChoice[]): Promise<OpChoice | undefined> {
  const pos = editor.selection.active;
  const names = new Map(ops.map((o) => [o.operation, o]));
  const syms = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', editor.document.uri)
    .then((x) => x ?? [], () => [] as vscode.DocumentSymbol[]);
  let found: OpChoice | undefined;
  const walk = (list: vscode.DocumentSymbol[]) => {
    for (const s of list) {
      if (!s.range.contains(pos)) continue;
      const hit = names.get(s.name);
      if (hit) found = hit; // deepest match wins
      walk(s.children ?? []);
    }
  };
  walk(syms);
  if (found) return found;
  // without symbols: the lens on the cursor line
  return ops.find((o) => o.range.start.line === pos.line);
}

async function pickOperation(title: string, workflowsFirst: boolean): Promise<OpChoice | undefined> {
  const editor = vscode.window.activeTextEditor;
  let doc = editor && isGuildDocument(editor.document) ? editor.document : undefined;
  if (!doc) {
    const files = await vscode.workspace.findFiles(GUILD_GLOB, '**/node_modules/**', 20);
    if (files.length === 0) {
      void vscode.window.showWarningMessage('Guild: no guild.yml in this workspace.');
      return undefined;
    }
    doc = await vscode.workspace.openTextDocument(files[0]);
  }
  const ops = await operationsOf(doc);
  if (editor && editor.document === doc) {
    const at = await operationAtCursor(editor, ops);
    if (at) return at;
  }
  if (ops.length === 0) {
    void vscode.window.showWarningMessage(`Guild: no operations found in ${path.basename(doc.uri.fsPath)}.`);
    return undefined;
  }
  if (workflowsFirst) ops.sort((a, b) => Number(b.workflow) - Number(a.workflow));
  const pick = await vscode.window.showQuickPick(
    ops.map((o) => ({ label: o.operation, description: o.workflow ? 'workflow' : 'operation', op: o })),
    { title, placeHolder: 'Operation' });
  return pick?.op;
}

async function sendServerCommand(command: string, arg: unknown): Promise<unknown> {
  if (!client || client.state !== State.Running) throw new Error('the guildls language server is not running');
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
}

async function cmdRunWorkflow(arg?: RunArg): Promise<unknown> {
  const op = arg?.operation ? arg : await pickOperation('Guild: Run Workflow', true).then((o) => o && { uri: o.uri, operation: o.operation });
  if (!op) return undefined;
  return runWorkflow([op], (a) => sendServerCommand(SERVER_RUN, a[0]));
}

async function cmdShowPlan(arg?: RunArg): Promise<unknown> {
  const op = arg?.operation ? arg : await pickOperation('Guild: Show Plan', true).then((o) => o && { uri: o.uri, operation: o.operation });
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
    const active = [...runs.values()];
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
    const r = runs.get(runId);
    r?.channel.appendLine(result?.stopped ? '■ stop requested' : '■ the server did not stop this run (already finished?)');
    return result;
  } catch (e) {
    void vscode.window.showErrorMessage(`Guild: could not stop the run: ${errText(e)}`);
    return undefined;
  }
}

// ---------------------------------------------------------------- status bar

function setServerState(s: typeof serverState, error = ''): void {
  serverState = s;
  serverError = error;
  updateStatus();
}

function updateStatus(): void {
  const active = [...runs.values()];
  void vscode.commands.executeCommand('setContext', 'guildls.running', active.length > 0);
  const tip = new vscode.MarkdownString(undefined, true);
  tip.appendMarkdown(`**guildls**: ${serverState}${serverError ? ` — ${serverError}` : ''}\n\n`);
  if (pythonDesc) tip.appendMarkdown(`${pythonDesc}\n\n`);
  if (coldStartText) tip.appendMarkdown(`cold start: ${coldStartText}\n\n`);
  if (!vscode.workspace.isTrusted) tip.appendMarkdown('Restricted Mode: runs are disabled\n\n');
  status.backgroundColor = undefined;
  if (active.length > 0) {
    const names = active.map((r) => r.operation).join(', ');
    status.text = `$(sync~spin) Guild: ${names}`;
    tip.appendMarkdown(`running: ${names} — click to stop`);
    status.command = 'guild.stopRun';
  } else if (serverState === 'starting') {
    status.text = '$(loading~spin) Guild: starting';
    status.command = 'guild.showOutput';
  } else if (serverState === 'ready') {
    status.text = '$(check) Guild';
    status.command = 'guild.showOutput';
  } else if (serverState === 'error') {
    status.text = '$(error) Guild: error';
    status.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    status.command = 'guild.showOutput';
  } else {
    status.text = '$(circle-slash) Guild: stopped';
    status.command = 'guild.restartServer';
  }
  status.tooltip = tip;
  status.show();
}

// ---------------------------------------------------------------- helpers

function errText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);
}
