// Which operation a command is about: the one under the cursor in a guild
// file, else one the user picks (from the server's code lenses, or the
// document symbols while there are no lenses yet).
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunArg } from './runs/live';
import { GUILD_GLOB, isGuildDocument } from './util';

export const SERVER_PLAN = 'guildls.showPlan';

export interface OpChoice { operation: string; uri: string; range: vscode.Range; workflow: boolean }

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

export async function pickOperation(title: string, workflowsFirst: boolean): Promise<OpChoice | undefined> {
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

/** The operation an argument names, else the one at the cursor or picked by the user. */
export async function operationArg(arg: RunArg | undefined, title: string): Promise<RunArg | undefined> {
  if (arg?.operation) return arg;
  return pickOperation(title, true).then((o) => o && { uri: o.uri, operation: o.operation });
}
