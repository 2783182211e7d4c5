// The Plots view: scalar series (by step) of the chosen runs, one line per
// run, read by the server from the runs' event files (guildls.runScalars).
import * as vscode from 'vscode';
import { Run, runScalars } from '../runs/api';
import { userLabel } from '../runs/format';
import type { RunsModel } from '../runs/model';
import { errText } from '../util';
import type { PlotData } from './messages';
import { WebviewHost } from './panel';

export class PlotsPanel {
  private host: WebviewHost | undefined;
  private ids: string[] = [];
  private data: PlotData | undefined;
  private loading = 0;

  constructor(private readonly model: RunsModel) {
    // runs in progress log more values: fetch again when the runs change
    model.onDidChange(() => {
      if (this.host && this.plotted().some((r) => r.status === 'running' || !this.data?.series[r.id])) void this.load();
    });
  }

  show(runs: Run[]): void {
    // a workflow or batch without scalars of its own: its steps' (trials') series
    const expanded: Run[] = [];
    for (const r of runs) {
      const kids = this.model.children(r);
      if (!Object.keys(r.scalars ?? {}).length && kids.length) expanded.push(...kids.filter((k) => Object.keys(k.scalars ?? {}).length));
      else expanded.push(r);
    }
    this.ids = [...new Set(expanded.map((r) => r.id))];
    if (!this.host) {
      this.host = new WebviewHost('plots', 'Guild: Plots', (m) => { if (m.type === 'ready' && this.data) this.host?.post(this.data); });
      this.host.onDidDispose(() => { this.host = undefined; this.data = undefined; });
    } else {
      this.host.panel.reveal(undefined, false);
    }
    this.host.panel.title = `Guild: Plots (${this.ids.length} run${this.ids.length === 1 ? '' : 's'})`;
    void this.load();
  }

  private plotted(): Run[] {
    return this.ids.map((id) => this.model.get(id)).filter((r): r is Run => !!r);
  }

  private async load(): Promise<void> {
    const mine = ++this.loading;
    const runs = this.plotted();
    let series: PlotData['series'] = {};
    let error: string | undefined;
    try {
      series = runs.length ? await runScalars(runs.map((r) => r.id)) ?? {} : {};
    } catch (e) {
      error = `Cannot read the scalars: ${errText(e)}`;
      void vscode.window.showWarningMessage(`Guild: ${error}`);
    }
    if (mine !== this.loading) return;
    this.data = {
      type: 'data', series, error,
      runs: runs.map((r) => ({ id: r.id, status: r.status, name: `${r.short_id} ${r.operation}${userLabel(r) ? ` ${userLabel(r)}` : ''}` })),
    };
    this.host?.post(this.data);
  }
}
