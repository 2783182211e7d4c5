// Workflow graph webview: nodes are the steps (nested workflows as groups)
// and the runs steps require; edges are step order and `requires`. ELK
// (elkjs, layered) lays it out; we only draw its result as SVG. A node's
// colour is the live status of its step; a click opens the step's line.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { GraphData, GraphNodeMsg, GraphStatus } from '../src/webviews/messages';
import './graph.css';
import { h, onMessages, s, vscode } from './common';

const elk = new ELK();
const app = document.getElementById('app')!;
const title = h('div', { class: 'header' });
const legend = h('div', { class: 'legend' },
  ...['pending', 'running', 'completed', 'error'].map((st) => h('span', { class: `key status-${st}` }, h('i'), st)));
const canvas = h('div', { class: 'canvas' });
app.append(h('div', { class: 'top' }, title, legend), canvas);

let data: GraphData | undefined;
let status: Record<string, string> = {};
const nodeEls = new Map<string, SVGElement>();
let layoutSeq = 0;

const measure = document.createElement('canvas').getContext('2d')!;
function textWidth(t: string, bold = false): number {
  const cs = getComputedStyle(document.body);
  measure.font = `${bold ? '600 ' : ''}${cs.fontSize || '13px'} ${cs.fontFamily || 'sans-serif'}`;
  return measure.measureText(t).width;
}

const NODE_H = 44;
const PAD = 14;

function sublabel(n: GraphNodeMsg): string {
  if (n.kind === 'dependency') return 'required run';
  return n.operation && n.operation !== n.label ? n.operation : n.kind;
}

async function layout(): Promise<void> {
  if (!data) return;
  const mine = ++layoutSeq;
  const nodes = data.nodes;
  const ids = new Set(nodes.map((n) => n.id));
  const groups = new Set(nodes.map((n) => n.parent).filter((p): p is string => !!p && ids.has(p)));
  const elkNodes = new Map<string, ElkNode>();
  for (const n of nodes) {
    const w = Math.max(textWidth(n.label, true), textWidth(sublabel(n))) + 2 * PAD;
    elkNodes.set(n.id, groups.has(n.id)
      ? {
        id: n.id, children: [], layoutOptions: {
          'elk.padding': '[top=34,left=14,bottom=14,right=14]',
          'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': `(${Math.ceil(textWidth(n.label) + 28)}, 60)`,
        },
      }
      : { id: n.id, width: Math.ceil(w), height: NODE_H });
  }
  const root: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48', 'elk.spacing.nodeNode': '24',
      'elk.edgeRouting': 'ORTHOGONAL', 'elk.json.edgeCoords': 'ROOT', 'elk.json.shapeCoords': 'ROOT',
    },
    children: [],
    edges: [],
  };
  for (const n of nodes) {
    const parent = n.parent && groups.has(n.parent) ? elkNodes.get(n.parent)! : root;
    (parent.children ??= []).push(elkNodes.get(n.id)!);
  }
  root.edges = data.edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to)
    .map((e, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [e.from], targets: [e.to], layoutOptions: { kind: e.kind } as Record<string, string> }));
  let out: ElkNode;
  try {
    out = await elk.layout(root);
  } catch (e) {
    canvas.replaceChildren(h('p', { class: 'error' }, `Cannot lay out the graph: ${String(e)}`));
    return;
  }
  if (mine !== layoutSeq) return;
  draw(out, groups);
}

function draw(out: ElkNode, groups: Set<string>): void {
  const byId = new Map(data!.nodes.map((n) => [n.id, n]));
  const kinds = data!.edges;
  const W = (out.width ?? 100) + 8;
  const H = (out.height ?? 100) + 8;
  const svg = s('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Workflow graph of ${data!.title}` });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))));
  const groupLayer = s('g', { class: 'groups' });
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  svg.append(groupLayer, edgeLayer, nodeLayer);
  nodeEls.clear();
  const visit = (n: ElkNode) => {
    for (const c of n.children ?? []) {
      const info = byId.get(c.id);
      if (!info) continue;
      const x = c.x ?? 0;
      const y = c.y ?? 0;
      const w = c.width ?? 0;
      const hgt = c.height ?? 0;
      const g = s('g', { class: `node kind-${info.kind}${groups.has(c.id) ? ' group' : ''}`, 'data-id': c.id, tabindex: 0, role: 'button' });
      g.append(s('title', {}, `${info.label}${info.operation ? ` (${info.operation})` : ''}${info.line !== null ? ` — line ${info.line + 1}` : ''}`));
      if (groups.has(c.id)) {
        g.append(s('rect', { x, y, width: w, height: hgt, rx: 6, class: 'box' }),
          s('text', { x: x + 12, y: y + 21, class: 'label' }, info.label));
        groupLayer.append(g);
        visit(c);
      } else {
        g.append(s('rect', { x, y, width: w, height: hgt, rx: 6, class: 'box' }),
          s('text', { x: x + PAD, y: y + 19, class: 'label' }, info.label),
          s('text', { x: x + PAD, y: y + 35, class: 'sub' }, sublabel(info)));
        nodeLayer.append(g);
      }
      const open = () => vscode.postMessage({ type: 'reveal', id: c.id });
      g.addEventListener('click', (e) => { e.stopPropagation(); open(); });
      g.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') open(); });
      nodeEls.set(c.id, g);
    }
  };
  visit(out);
  (out.edges ?? []).forEach((e) => {
    const i = Number(e.id.slice(1));
    const kind = kinds.filter((k) => byId.has(k.from) && byId.has(k.to) && k.from !== k.to)[i]?.kind ?? 'order';
    for (const sec of e.sections ?? []) {
      const pts = [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint];
      edgeLayer.append(s('path', { d: pts.map((p, j) => `${j ? 'L' : 'M'} ${p.x} ${p.y}`).join(' '), class: `edge edge-${kind}`, 'marker-end': 'url(#arrow)' }));
    }
  });
  canvas.replaceChildren(svg);
  paint();
}

function paint(): void {
  for (const [id, el] of nodeEls) {
    const st = status[id] ?? 'none';
    el.setAttribute('data-status', st);
    el.classList.forEach((c) => { if (c.startsWith('status-')) el.classList.remove(c); });
    el.classList.add(`status-${st}`);
  }
  const counts: Record<string, number> = {};
  for (const v of Object.values(status)) counts[v] = (counts[v] ?? 0) + 1;
  title.replaceChildren(h('b', {}, data?.title ?? ''), ` · ${data?.nodes.length ?? 0} nodes`,
    ...Object.entries(counts).map(([k, v]) => ` · ${v} ${k}`));
}

onMessages<GraphData | GraphStatus>((msg) => {
  if (msg.type === 'data') {
    data = msg as GraphData;
    status = { ...data.status };
    void layout();
  } else if (msg.type === 'status') {
    Object.assign(status, (msg as GraphStatus).status);
    paint();
  }
});
