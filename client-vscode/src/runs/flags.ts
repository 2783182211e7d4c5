// "Run with flags…": one input line `epochs=2 lr=0.1`, pre-filled with the
// operation's flags (and defaults, or a past run's values), each change
// validated by the server (guildls.validateFlags) — its message is shown under
// the line and nothing runs until the server accepts every value.
import * as vscode from 'vscode';
import { errText } from '../util';
import { FlagInfo, operationFlags, validateFlags } from './api';
import { flagValue, isDependencyFlag, parseFlagLine } from './format';

export async function runWithFlags(uri: string, operation: string, initial?: Record<string, unknown>): Promise<unknown> {
  let infos: FlagInfo[];
  try {
    // (not the `operation:NAME` flags naming required runs: resolved when the run starts)
    infos = (await operationFlags(uri, operation)).filter((f) => !isDependencyFlag(f.name));
  } catch (e) {
    void vscode.window.showErrorMessage(`Guild: cannot read the flags of '${operation}': ${errText(e)}`);
    return undefined;
  }
  const values = new Map<string, unknown>();
  for (const f of infos) if (f.default !== null && f.default !== undefined) values.set(f.name, f.default);
  for (const [k, v] of Object.entries(initial ?? {})) values.set(k, v);
  const line = [...values].map(([k, v]) => `${k}=${flagValue(v)}`).join(' ');

  const flags = await askFlags(operation, line, infos, (f) => validate(uri, operation, f));
  if (!flags) return undefined;
  return vscode.commands.executeCommand('guild.runWorkflow', { uri, operation, flags });
}

async function validate(uri: string, operation: string, flags: Record<string, string>): Promise<string> {
  try {
    const res = await validateFlags(uri, operation, flags);
    const errors = Object.entries(res?.errors ?? {});
    return errors.map(([k, m]) => (m.includes(k) ? m : `${k}: ${m}`)).join('; ');
  } catch (e) {
    return errText(e);
  }
}

function describeFlag(f: FlagInfo): string {
  const bits = [f.type, f.choices?.length ? `one of ${f.choices.map(flagValue).join('|')}` : '', f.required ? 'required' : '']
    .filter(Boolean).join(', ');
  return bits ? `${f.name} (${bits})` : f.name;
}

function askFlags(operation: string, line: string, infos: FlagInfo[],
  check: (f: Record<string, string>) => Promise<string>): Promise<Record<string, string> | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = `Guild: Run '${operation}' with flags`;
    box.value = line;
    box.placeholder = 'NAME=VALUE …';
    box.prompt = infos.length
      ? `Flags: ${infos.map(describeFlag).join(' · ')} — Enter runs once the server accepts every value`
      : `'${operation}' declares no flags; NAME=VALUE pairs are checked by the server`;
    box.ignoreFocusOut = true;
    let seq = 0;
    let done = false;
    // on Enter (`accepting`) a refusal says so: "Not run: <why>", so the person sees Enter was heard
    const parseAndCheck = async (accepting = false): Promise<Record<string, string> | undefined> => {
      const mine = ++seq;
      const why = (m: string) => (accepting ? `Not run: ${m}` : m);
      const parsed = parseFlagLine(box.value);
      if ('error' in parsed) { box.validationMessage = why(parsed.error); return undefined; }
      box.busy = true;
      const msg = await check(parsed.flags);
      if (mine !== seq) return undefined; // the line changed meanwhile
      box.busy = false;
      box.validationMessage = msg ? { message: why(msg), severity: vscode.InputBoxValidationSeverity.Error } : undefined;
      return msg ? undefined : parsed.flags;
    };
    let timer: NodeJS.Timeout | undefined;
    box.onDidChangeValue(() => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void parseAndCheck(), 250);
    });
    box.onDidAccept(async () => {
      if (timer) clearTimeout(timer);
      const flags = await parseAndCheck(true);
      if (!flags || done) return;
      done = true;
      box.hide();
      resolve(flags);
    });
    box.onDidHide(() => { box.dispose(); if (!done) { done = true; resolve(undefined); } });
    box.show();
    void parseAndCheck();
  });
}
