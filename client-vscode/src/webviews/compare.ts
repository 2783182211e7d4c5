// The Compare view: a table of runs (flags and last scalars) in a webview,
// kept current as the runs change; rows selected there can be plotted.
import * as vscode from 'vscode';
import type { Run } from '../runs/api';
import type { RunsModel } from '../runs/model';
import { compareData } from './compareData';
import type { FromCompare } from './messages';
import { WebviewHost } from './panel';

export class ComparePanel {
  private host: WebviewHost | undefined;
  private ids: string[] = [];

  constructor(private readonly model: RunsModel, private readonly plot: (runs: Run[]) => void) {
    model.onDidChange(() => { if (this.host) this.send(); });
  }

  show(runs: Run[]): void {
    this.ids = runs.map((r) => r.id);
    if (!this.host) {
      this.host = new WebviewHost('compare', 'Guild: Compare Runs', (m) => this.receive(m as FromCompare));
      this.host.onDidDispose(() => { this.host = undefined; });
    } else {
      this.host.panel.reveal(undefined, false);
    }
    this.host.panel.title = `Guild: Compare ${runs.length} Runs`;
    this.send();
  }

  private runs(): Run[] {
    return this.ids.map((id) => this.model.get(id)).filter((r): r is Run => !!r);
  }

  private send(): void {
    this.host?.post(compareData(this.runs(), (r) => this.model.children(r)));
  }

  private receive(m: FromCompare): void {
    if (m.type === 'ready') this.send();
    else if (m.type === 'plot' && Array.isArray(m.ids)) {
      const runs = m.ids.map((id) => this.model.get(String(id))).filter((r): r is Run => !!r);
      if (runs.length) this.plot(runs);
      else void vscode.window.showInformationMessage('Guild: select runs in the table to plot them.');
    }
  }
}
