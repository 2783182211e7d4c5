// The runs the server knows, refreshed when the server says they changed
// (guildls/runsChanged, runStarted, runFinished) — never by polling. The
// server reads the run records; this side only keeps the latest list.
import * as vscode from 'vscode';
import { ext } from '../context';
import { isServerRunning, onServerNotification, onServerReady } from '../server';
import { errText } from '../util';
import { listRuns, N_RUNS_CHANGED, Run } from './api';

export class RunsModel implements vscode.Disposable {
  private runs: Run[] = [];
  private byId = new Map<string, Run>();
  private loading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[] = [];
  /** Why the last refresh failed ('' when it did not). */
  error = '';
  loaded = false;

  readonly onDidChange = this.changed.event;

  constructor() {
    const soon = () => this.refreshSoon();
    this.subs.push(
      this.changed,
      onServerNotification(N_RUNS_CHANGED, soon),
      onServerNotification('guildls/runStarted', soon),
      onServerNotification('guildls/runFinished', soon),
      onServerReady(soon),
    );
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }

  all(): Run[] {
    return this.runs;
  }

  get(id: string): Run | undefined {
    return this.byId.get(id);
  }

  /** Top-level runs (no parent, or a parent not listed), newest first. */
  roots(): Run[] {
    return this.runs.filter((r) => !r.parent || !this.byId.has(r.parent));
  }

  /** Step runs of a workflow (in step order) or trials of a batch, then any other child. */
  children(run: Run): Run[] {
    const ids = [...(run.steps ?? []), ...(run.trials ?? [])];
    const out: Run[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const r = this.byId.get(id);
      if (r && !seen.has(id)) { out.push(r); seen.add(id); }
    }
    for (const r of this.runs) if (r.parent === run.id && !seen.has(r.id)) { out.push(r); seen.add(r.id); }
    return out;
  }

  /** Coalesces bursts of change notifications into one listRuns request. */
  refreshSoon(delay = 150): void {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.refresh(); }, delay);
  }

  async refresh(): Promise<void> {
    if (!isServerRunning()) return; // onServerReady lists them
    if (this.loading) { this.again = true; return this.loading; }
    this.loading = (async () => {
      try {
        const runs = await listRuns({});
        this.runs = runs;
        this.byId = new Map(runs.map((r) => [r.id, r]));
        this.error = '';
      } catch (e) {
        this.error = errText(e);
        ext.log.warn(`listing runs: ${this.error}`);
      }
      this.loaded = true;
      this.changed.fire();
    })().finally(() => {
      this.loading = undefined;
      if (this.again) { this.again = false; void this.refresh(); }
    });
    return this.loading;
  }
}
