// Shared by the webview bundles: the VS Code API handle and a tiny element
// builder. Every value is set with textContent or a DOM property — never
// innerHTML — so run labels, flag values and keys always show as text.

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag) as SVGElement;
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (/^on/i.test(k)) throw new Error(`refusing attribute ${k}`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
}

/** Calls FN with each message the extension posts. Then says 'ready'. */
export function onMessages<T extends { type: string }>(fn: (msg: T) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const msg = e.data;
    if (msg && typeof msg === 'object' && typeof msg.type === 'string') fn(msg as T);
  });
  vscode.postMessage({ type: 'ready' });
}

/** A theme colour (a --vscode-* CSS variable), with a fallback. */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(`--vscode-${name}`).trim();
  return v || fallback;
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }
  return String(v);
}
