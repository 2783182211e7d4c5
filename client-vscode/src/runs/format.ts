// Text for runs: "2 min ago", scalar values, one-line flag lists. Pure functions.
import type { Run } from './api';

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 30) return `${d} d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

export function num(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '' : String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

export function duration(secs: number | null): string {
  if (secs === null || secs === undefined) return '';
  if (secs < 60) return `${secs.toFixed(1)} s`;
  const m = Math.floor(secs / 60);
  if (m < 60) return `${m} min ${Math.round(secs % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The scalar shown in a run's description: loss first, then accuracy, then any. */
export function headlineScalar(run: Run): [string, number] | undefined {
  const keys = Object.keys(run.scalars ?? {});
  const pick = ['loss', 'val_loss', 'accuracy', 'acc', 'val_accuracy'].find((k) => keys.includes(k)) ?? keys[0];
  const v = pick !== undefined ? run.scalars[pick]?.last : undefined;
  return pick !== undefined && typeof v === 'number' ? [pick, v] : undefined;
}

export function flagsText(flags: Record<string, unknown>): string {
  return Object.entries(flags ?? {}).map(([k, v]) => `${k}=${flagValue(v)}`).join(' ');
}

export function flagValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /[\s"'=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Splits `a=1 b="x y"` into {a: "1", b: "x y"}; returns an error text for a word without `=`. */
export function parseFlagLine(line: string): { flags: Record<string, string> } | { error: string } {
  const flags: Record<string, string> = {};
  const re = /\s*([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/y;
  let i = 0;
  const s = line.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) {
      const word = s.slice(i).trim().split(/\s+/)[0];
      return { error: `'${word}' is not NAME=VALUE` };
    }
    flags[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] !== undefined ? m[4] : m[5];
    i = re.lastIndex;
    while (i < s.length && /\s/.test(s[i])) i++;
  }
  return { flags };
}

/** Guild records the runs an operation required as flags `operation:NAME=<run id>`. */
export function isDependencyFlag(name: string): boolean {
  return name.startsWith('operation:');
}

/** The flags a user sets (without the required-run ids Guild records as flags). */
export function userFlags(flags: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(flags ?? {}).filter(([k]) => !isDependencyFlag(k)));
}

/** The run's label unless it is the one Guild makes from the flags (`epochs=2 lr=0.1`). */
export function userLabel(run: { label: string | null; flags: Record<string, unknown> }): string {
  const label = (run.label ?? '').trim();
  if (!label) return '';
  const names = new Set(Object.keys(run.flags ?? {}));
  const words = label.split(/\s+/);
  return words.every((w) => names.has(w.split('=')[0]) && w.includes('=')) ? '' : label;
}
