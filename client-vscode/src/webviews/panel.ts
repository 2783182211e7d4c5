// One webview panel: a static page whose only script is the view's own
// bundle (dist/webviews/<view>.js, built by esbuild), under a strict
// Content-Security-Policy with a per-panel nonce and no remote resources.
// Data goes in by postMessage only, once the page says it is ready; the page
// renders every value as text (never as HTML).
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { ext } from '../context';

export type ViewKind = 'compare' | 'plots' | 'graph';

export interface FromWebview { type: string; [k: string]: unknown }

export class WebviewHost implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private ready = false;
  private readonly subs: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(readonly kind: ViewKind, title: string, onMessage: (msg: FromWebview) => void,
    column: vscode.ViewColumn = vscode.ViewColumn.Active) {
    const root = vscode.Uri.joinPath(ext.ctx.extensionUri, 'dist', 'webviews');
    this.panel = vscode.window.createWebviewPanel(`guild.${kind}`, title, { viewColumn: column, preserveFocus: false }, {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      localResourceRoots: [root],
      retainContextWhenHidden: false,
    });
    this.panel.webview.html = page(this.panel.webview, root, kind);
    this.subs.push(
      this.panel.webview.onDidReceiveMessage((msg: FromWebview) => {
        if (!msg || typeof msg.type !== 'string') return;
        // 'ready': the page loaded (again, after it was hidden: hidden panels
        // are not retained); the view answers with its whole state
        if (msg.type === 'ready') this.ready = true;
        onMessage(msg);
      }),
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.onDidChangeViewState((e) => { if (!e.webviewPanel.visible) this.ready = false; }),
    );
  }

  /** Posts MSG to a loaded page; before that the view's answer to 'ready' carries its state. */
  post(msg: unknown): void {
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.disposed.fire();
    this.disposed.dispose();
  }
}

function page(webview: vscode.Webview, root: vscode.Uri, kind: ViewKind): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, `${kind}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, `${kind}.css`));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  // a fixed page: no value of a run or a file is ever put in it
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${style}">
</head>
<body data-view="${kind}">
<div id="app" role="main"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
