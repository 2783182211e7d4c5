// The extension context and the log channel, set once by activate().
import * as vscode from 'vscode';

export const CLIENT_NAME = 'Guild Language Server';

interface Ext { ctx: vscode.ExtensionContext; log: vscode.LogOutputChannel }

export const ext = {} as Ext;

export function initContext(context: vscode.ExtensionContext): void {
  ext.ctx = context;
  ext.log = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  context.subscriptions.push(ext.log);
}
