// Show Plan: the server's plan of a workflow in a read-only document beside the guild file.
import * as vscode from 'vscode';
import type { RunArg } from './runs/live';

const PLAN_SCHEME = 'guild-plan';
const plans = new Map<string, string>();
let planCounter = 0;

export function initPlans(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, {
    provideTextDocumentContent: (uri) => plans.get(uri.toString()) ?? '',
  }));
}

export async function showPlanResult(result: any, arg?: RunArg): Promise<void> {
  const text: string = typeof result?.text === 'string' ? result.text : JSON.stringify(result, null, 2);
  const op = arg?.operation ?? 'plan';
  const uri = vscode.Uri.parse(`${PLAN_SCHEME}:/${encodeURIComponent(op)}.plan?${++planCounter}`);
  plans.set(uri.toString(), text);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}
