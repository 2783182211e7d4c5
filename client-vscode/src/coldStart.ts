// Cold start figures: activation -> server process -> server ready -> first
// diagnostics, logged and shown in the status item's tooltip.
import * as vscode from 'vscode';
import { ext } from './context';
import { setColdStart } from './status';
import { isGuildDocument } from './util';

let tActivate = Date.now();
let tDocOpen: number | undefined; // first guild document open in the editor (ms after activation)
let tReady: number | undefined;
let tSpawn: number | undefined; // server process started (ms after activation)
let tFirstDiagnostics: number | undefined;

export function markActivated(context: vscode.ExtensionContext): void {
  tActivate = Date.now();
  if (vscode.workspace.textDocuments.some(isGuildDocument)) tDocOpen = 0;
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument((d) => {
    if (tDocOpen === undefined && isGuildDocument(d)) tDocOpen = Date.now() - tActivate;
  }));
}

export function sinceActivation(): number {
  return Date.now() - tActivate;
}

export function markSpawn(): void {
  if (tSpawn === undefined) tSpawn = sinceActivation();
}

export function markReady(): void {
  if (tReady === undefined) tReady = sinceActivation();
}

export function firstDiagnosticsSeen(): boolean {
  return tFirstDiagnostics !== undefined;
}

export function noteFirstDiagnostics(uri: vscode.Uri, count: number): void {
  tFirstDiagnostics = sinceActivation();
  const open = tDocOpen ?? tFirstDiagnostics;
  const text = `activation → server process ${tSpawn ?? '?'} ms → server ready ${tReady ?? '?'} ms, activation → first diagnostics ${tFirstDiagnostics} ms` +
    ` (guild document open at +${open} ms, open → diagnostics ${tFirstDiagnostics - open} ms)`;
  ext.log.info(`cold start: ${text}; ${count} diagnostic(s) for ${uri.fsPath}`);
  setColdStart(text);
}
