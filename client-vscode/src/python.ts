// Which Python runs the server: the guildls.python setting, else the Python
// extension's interpreter, else python3; checked (version >= 3.9) and cached.
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { ext } from './context';
import { errText, withTimeout } from './util';

export const MIN_PYTHON: [number, number] = [3, 9];

export interface PythonChoice { command: string; source: string }

export async function resolvePython(resource?: vscode.Uri): Promise<PythonChoice> {
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
  const pyExt = vscode.extensions.getExtension('ms-python.python');
  if (!pyExt) return undefined;
  try {
    if (!pyExt.isActive) await withTimeout(Promise.resolve(pyExt.activate()), 5000);
    const api = pyExt.exports as any;
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
    ext.log.warn(`could not ask the Python extension for its interpreter: ${errText(e)}`);
  }
  return undefined;
}

/** Calls onChange when the Python extension's active interpreter changes. */
export async function watchPythonExtension(context: vscode.ExtensionContext, onChange: () => void): Promise<void> {
  const pyExt = vscode.extensions.getExtension('ms-python.python');
  if (!pyExt) return;
  try {
    if (!pyExt.isActive) await withTimeout(Promise.resolve(pyExt.activate()), 10000);
    const envs = (pyExt.exports as any)?.environments;
    if (envs?.onDidChangeActiveEnvironmentPath) {
      context.subscriptions.push(envs.onDidChangeActiveEnvironmentPath(onChange));
    }
  } catch {
    // the Python extension is optional
  }
}

export type PythonCheck = { ok: true; version: string; executable: string } | { ok: false; problem: string };

// The interpreter check costs a process start (a few hundred ms in a busy
// editor): remember a good answer per command, while the interpreter file is unchanged.
export async function checkPythonCached(command: string): Promise<PythonCheck> {
  const key = pythonCheckKey(command);
  const state = ext.ctx.globalState;
  const cached = state.get<{ version: string; executable: string; mtime: number }>(key);
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
      await state.update(key, { version: res.version, executable: res.executable, mtime: fs.statSync(res.executable).mtimeMs });
    } catch {
      // not cached
    }
  } else if (cached) {
    await state.update(key, undefined);
  }
  return res;
}

/** Forget the cached check (the interpreter is checked again next time). */
export async function forgetPythonCheck(command: string): Promise<void> {
  await ext.ctx.globalState.update(pythonCheckKey(command), undefined);
}

function pythonCheckKey(command: string): string {
  return `pythonCheck:${command}`;
}

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
