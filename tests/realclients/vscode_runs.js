// The runs scenario of vscode_e2e.js (--scenario runs): the Guild Runs view,
// Run with flags (validated by the server), Compare, Plots and the workflow
// graph, driven in real VS Code (code-server) the way a person would. Every
// step waits for what the user would see (a row, a node colour, a column).
// Writes what it saw to res.steps; test_vscode.py::test_runs_views asserts.

const sleep = (page, ms) => page.waitForTimeout(ms);

/** Polls FN until it returns a truthy value (or TIMEOUT ms pass): its value, else undefined. */
async function until(page, fn, timeout, step = 250) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(page, step);
  }
}

/** The frame of a guildls webview (its page's body says which view it is). */
async function webviewFrame(page, kind, timeout) {
  return until(page, async () => {
    for (const f of page.frames()) {
      const view = await f.evaluate(() => document.body && document.body.dataset.view).catch(() => null);
      if (view === kind) return f;
    }
    return undefined;
  }, timeout);
}

async function runsScenario({ page, a, res, shot, lens, gotoLine, runCommand, squeeze }) {
  const steps = res.steps;
  const T = a.timeout;
  const RT = a['run-timeout'];
  const fail = (msg) => { res.errors.push(msg); };
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });

  const decoration = (text) => page.locator('.monaco-editor .codelens-decoration', { hasText: text });
  const lensIn = (deco, title) => deco.locator('a', { hasText: title }).first();

  // ---- the Guild Runs view
  const pane = page.locator('#workbench\\.view\\.extension\\.guild');
  const rows = async () => pane.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => ({
    level: Number(e.getAttribute('aria-level') || 0),
    label: (e.querySelector('.label-name') || {}).textContent || '',
    desc: (e.querySelector('.label-description') || {}).textContent || '',
    icon: [...(e.querySelector('.custom-view-tree-node-item-icon') || { classList: [] }).classList].filter((c) => c.startsWith('codicon-')).join(' '),
    expanded: e.getAttribute('aria-expanded'),
  })));
  const showRunsView = async () => {
    if (await pane.isVisible().catch(() => false)) return true;
    // the view's focus command (a click on the activity bar icon would hide a view just restoring)
    await runCommand('Focus on Guild Runs View');
    return pane.waitFor({ timeout: T }).then(() => true, () => false);
  };
  // a click on a row, then the mouse away (its hover tooltip would cover what comes next)
  const clickRow = async (row, opts = {}) => {
    await row.click(opts);
    await page.mouse.move(a.width - 40, a.height - 120);
  };
  // the panel (output channels) closed: room for the views
  const panelPart = page.locator('#workbench\\.parts\\.panel');
  const hidePanel = async () => {
    if (!(await panelPart.isVisible().catch(() => false))) return;
    await runCommand('View: Toggle Panel Visibility');
    await panelPart.waitFor({ state: 'hidden', timeout: T }).catch(() => fail('the panel did not hide'));
  };
  const rowLocator = (pred) => pane.locator('.monaco-list-row').filter({ has: page.locator('.label-description', { hasText: pred }) });

  // 1. the graph, from the "Show graph" lens above the workflow
  await gotoLine(a['workflow-line'] + 1);
  const wf = decoration('Run workflow').first();
  await wf.waitFor({ timeout: T });
  steps.workflow_lenses = (await wf.locator('a').allInnerTexts()).map(squeeze);
  await shot('runs-00-lenses.png');
  await lensIn(wf, 'Show graph').click();
  let graph = await webviewFrame(page, 'graph', T);
  if (!graph) throw new Error('"Show graph" opened no graph view');
  await until(page, async () => (await graph.locator('.node.kind-step').count()) >= 3, T);
  steps.graph_nodes = await graph.locator('.node').evaluateAll((els) => els.map((e) => ({
    id: e.getAttribute('data-id'), cls: e.getAttribute('class'), text: e.querySelector('.label') && e.querySelector('.label').textContent,
  })));
  steps.graph_edges = await graph.locator('.edge').count();
  // record every colour a node takes from now on
  await graph.evaluate(() => {
    window.__seen = {};
    const note = () => {
      for (const n of document.querySelectorAll('.node')) {
        const id = n.getAttribute('data-id');
        const st = n.getAttribute('data-status');
        const seen = (window.__seen[id] = window.__seen[id] || []);
        if (seen[seen.length - 1] !== st) seen.push(st);
      }
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  });
  await shot('runs-01-graph.png');

  // 2. run the workflow from its lens: the graph's steps turn completed
  await lensIn(decoration('Run workflow').first(), 'Run workflow').click();
  const stepNodes = '.node.kind-step';
  const allDone = await until(page, async () => {
    const sts = await graph.locator(stepNodes).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    return sts.length >= 3 && sts.every((s) => s === 'completed') ? sts : undefined;
  }, RT);
  steps.graph_seen = await graph.evaluate(() => window.__seen).catch(() => null);
  if (!allDone) fail('the graph\'s step nodes did not all turn completed');
  await shot('runs-02-graph-completed.png');

  // 3. the Runs view: the workflow run and its 3 step runs, with their status
  if (!(await showRunsView())) throw new Error('no Guild Runs view');
  const seenTree = await until(page, async () => {
    const r = await rows();
    const top = r.findIndex((x) => x.level === 1 && x.desc.startsWith('end-to-end'));
    if (top < 0) return undefined;
    const kids = [];
    for (let i = top + 1; i < r.length && r[i].level > 1; i++) kids.push(r[i]);
    return kids.length >= 3 && kids.every((k) => /pass/.test(k.icon)) && /pass/.test(r[top].icon) ? r : undefined;
  }, T);
  steps.runs_rows_after_first = seenTree || await rows();
  if (!seenTree) fail('the Runs view did not show the workflow run with 3 completed step runs');
  const guildStatus = async () => (await page.locator('.statusbar-item').allInnerTexts().catch(() => []))
    .map(squeeze).filter((t) => /guild/i.test(t));
  steps.status_bar_after_first = await until(page, async () => {
    const t = await guildStatus();
    return t.some((x) => /end-to-end/.test(x)) ? undefined : t;
  }, T) || await guildStatus();
  await shot('runs-03-view.png');
  // room for the next views: close the graph
  const graphTab = page.locator('.tab', { hasText: 'Graph: end-to-end' }).first();
  await graphTab.hover().catch(() => {});
  await graphTab.locator('.codicon-close').first().click().catch((e) => fail('closing the graph: ' + e.message.split('\n')[0]));
  await graphTab.waitFor({ state: 'detached', timeout: T }).catch(() => {});

  // 4. Run with flags: a bad value (on `train`, by the command with the cursor inside it) shows the server's message
  await gotoLine(a['train-line'] + 2);
  await runCommand('Guild: Run with Flags');
  const input = page.locator('.quick-input-widget input.input');
  // the box's flags line (NAME=VALUE words), not the palette's text it replaces
  const flagsLine = async () => {
    const v = await input.inputValue();
    return /\w=\S/.test(v) && !v.startsWith('>') ? v : undefined;
  };
  await input.waitFor({ timeout: T });
  steps.train_flags_prefill = await until(page, flagsLine, T);
  await input.fill('epochs=abc lr=0.1');
  const message = page.locator('.quick-input-widget .quick-input-message');
  steps.bad_flag_message = squeeze(await until(page, async () => {
    const t = squeeze(await message.innerText());
    return /abc/.test(t) ? t : undefined; // the server's message names the bad value
  }, T) || await message.innerText().catch(() => ''));
  await shot('runs-04-bad-flag.png');
  await page.keyboard.press('Enter'); // refused: the box stays open and says the run did not start
  steps.bad_flag_refused = squeeze(await until(page, async () => {
    const t = squeeze(await message.innerText());
    return /^Not run:.*abc/.test(t) ? t : undefined;
  }, T) || await message.innerText().catch(() => ''));
  steps.bad_flag_box_still_open = await input.isVisible();
  await page.keyboard.press('Escape');

  //    then the workflow with epochs=3, from its "Run with flags…" lens
  await gotoLine(a['workflow-line'] + 1);
  // the lenses are redrawn when the runs change (their "✓ just now"): a click that lands on a
  // lens being replaced does nothing, so click again until the box shows, as a person would
  const boxOpen = await until(page, async () => {
    if (await input.isVisible()) return true;
    await lensIn(decoration('Run workflow').first(), 'Run with flags').click({ timeout: 5000 });
    return input.waitFor({ timeout: 5000 }).then(() => true);
  }, T);
  if (!boxOpen) throw new Error('the "Run with flags…" lens opened no input box');
  steps.workflow_flags_prefill = await until(page, flagsLine, T);
  await input.fill('epochs=3');
  await until(page, async () => !(await message.innerText().catch(() => '')).match(/error|invalid|must/i), T);
  await page.keyboard.press('Enter');
  await until(page, async () => !(await input.isVisible()), T);
  const twoRuns = await until(page, async () => {
    const r = (await rows()).filter((x) => x.level === 1 && x.desc.startsWith('end-to-end'));
    return r.length >= 2 && r.every((x) => /pass/.test(x.icon)) ? r : undefined;
  }, RT);
  steps.runs_rows_after_second = await rows();
  if (!twoRuns) fail('the second workflow run (epochs=3) did not show as completed');

  // 5. Compare the two workflow runs (selected in the view)
  await hidePanel(); // (the run's output channel) room for the table
  await showRunsView();
  const wfRows = rowLocator(/^end-to-end/);
  await clickRow(wfRows.nth(0));
  await clickRow(wfRows.nth(1), { modifiers: ['Control'] });
  await runCommand('Guild: Compare Runs');
  const compare = await webviewFrame(page, 'compare', T);
  if (!compare) throw new Error('Compare opened no view');
  const heads = await until(page, async () => {
    const h = await compare.locator('thead tr:not(.groups) th').allInnerTexts();
    const n = await compare.locator('tbody tr').count();
    return n >= 2 && ['epochs', 'lr', 'accuracy'].every((k) => h.some((x) => x.replace(/[▲▼]/g, '').trim() === k)) ? h : undefined;
  }, T);
  steps.compare_headers = (heads || await compare.locator('thead th').allInnerTexts()).map(squeeze);
  steps.compare_rows = (await compare.locator('tbody tr').allInnerTexts()).map(squeeze);
  steps.compare_differs = await compare.locator('thead th.differs').allInnerTexts();
  await shot('runs-05-compare.png');
  //    sort by epochs: the click sorts the rows
  await compare.locator('thead th[data-col="flag:epochs"]').click();
  const epochCells = () => compare.locator('tbody td[data-col="flag:epochs"]').allInnerTexts();
  steps.compare_sorted_epochs = await until(page, async () => {
    const v = await epochCells();
    return JSON.stringify(v) === '["2","3"]' ? v : undefined;
  }, T) || await epochCells();

  // 6. a label that looks like HTML shows as text in the tree and the table
  const LABEL = '<img src=x onerror=alert(1)>';
  await showRunsView();
  await clickRow(wfRows.nth(0));
  await runCommand('Guild: Label Run');
  // the label box (its title), not the palette still closing
  await page.locator('.quick-input-widget .quick-input-title', { hasText: /label run/ }).first().waitFor({ timeout: T });
  await input.fill(LABEL);
  await page.keyboard.press('Enter');
  const labelled = await until(page, async () => {
    const t = await compare.locator('tbody td[data-col="label"]').allTextContents();
    const inTree = (await rows()).some((r) => r.label.includes(LABEL));
    return t.includes(LABEL) && inTree ? t : undefined;
  }, T);
  steps.compare_labels = labelled || await compare.locator('tbody td[data-col="label"]').allTextContents();
  steps.compare_img_elements = await compare.evaluate(() => document.querySelectorAll('img').length);
  steps.tree_labels = (await rows()).map((r) => r.label);
  steps.dialogs = dialogs.slice();
  await shot('runs-06-label-as-text.png');

  // 7. Plot the selected rows (all of them) from the table
  await compare.locator('thead th.sel input').check();
  await compare.locator('#plot').click();
  const plots = await webviewFrame(page, 'plots', T);
  if (!plots) throw new Error('"Plot selected" opened no plots view');
  const charts = await until(page, async () => {
    const c = await plots.locator('.chart').evaluateAll((els) => els.map((e) => ({
      key: e.getAttribute('data-key'),
      points: (e.getAttribute('data-points') || '').split(',').filter(Boolean).map(Number),
      series: [...e.querySelectorAll('.u-legend .u-series')].slice(1).map((s) => s.textContent.trim()),
      canvas: !!e.querySelector('canvas'),
    })));
    // every chart drawn, and the loss chart with both runs' lines
    const loss = c.find((x) => x.key === 'loss');
    return c.length && c.every((x) => x.canvas && x.series.length) && loss && loss.series.length >= 2
      && loss.points.length >= 2 ? c : undefined;
  }, T);
  steps.plots = charts || null;
  //    hover the first chart: the legend shows the values under the cursor
  const over = plots.locator('.chart .u-over').first();
  const box = await over.boundingBox().catch(() => null);
  if (box) {
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height * 0.5, { steps: 5 });
    steps.plot_hover_legend = (await plots.locator('.chart').first().locator('.u-legend').innerText().catch(() => '')).split('\n').map(squeeze).filter(Boolean);
  }
  await shot('runs-07-plots.png');

  // 8. after a window reload: Show Output of a past run reads its recorded output
  // wait for the reload itself (the old workbench is still on the page until it happens)
  const reloaded = page.waitForEvent('load', { timeout: T });
  await runCommand('Developer: Reload Window');
  await reloaded;
  await page.waitForSelector('.monaco-workbench', { timeout: T });
  if (!(await showRunsView())) throw new Error('no Guild Runs view after the reload');
  const trainRow = rowLocator(/^train/).first();
  await trainRow.waitFor({ timeout: T }).catch(() => fail('no train step row after the reload'));
  steps.train_row_desc = squeeze(await trainRow.locator('.label-description').innerText().catch(() => ''));
  await clickRow(trainRow);
  await runCommand('Guild: Show Run Output');
  const tab = page.locator('.tab', { hasText: /train .*\.log/ }).first();
  await tab.waitFor({ timeout: T }).catch(() => fail('Show Run Output opened no .log tab'));
  steps.output_tab = squeeze(await tab.innerText().catch(() => ''));
  const text = await until(page, async () => {
    const t = (await page.locator('.editor-group-container .monaco-editor .view-lines').last().innerText()).replace(/\u00a0/g, ' ');
    return /loss:/.test(t) ? t : undefined;
  }, T);
  steps.output_text = (text || '').split('\n').slice(0, 12);
  await shot('runs-08-output-after-reload.png');

  // 9. Rerun the train step: a new train run at the top of the view
  await showRunsView();
  const trainsBefore = (await rows()).filter((r) => r.desc.startsWith('train')).length;
  // its inline action, on the hovered row
  const firstTrain = rowLocator(/^train/).first();
  await firstTrain.hover();
  await firstTrain.locator('.action-label[aria-label="Rerun"]').first().click();
  await page.mouse.move(a.width - 40, a.height - 120);
  steps.rerun_rows = await until(page, async () => {
    const r = await rows();
    return r.filter((x) => x.desc.startsWith('train')).length > trainsBefore && r[0].desc.startsWith('train') && /pass/.test(r[0].icon)
      ? r.slice(0, 2) : undefined;
  }, RT) || null;

  // 10. Open Run Folder: the run's folder is revealed in the Explorer
  await hidePanel();
  await clickRow(rowLocator(/^train/).first());
  const shortId = squeeze(await rowLocator(/^train/).first().locator('.label-name').innerText()).split(' ')[0];
  await runCommand('Guild: Open Run Folder');
  const revealed = page.locator('.explorer-folders-view .monaco-list-row.selected, .explorer-folders-view .monaco-list-row.focused')
    .filter({ hasText: shortId });
  steps.open_folder_revealed = await revealed.first().waitFor({ timeout: T }).then(() => true, () => false);
  steps.open_folder_row = squeeze(await revealed.first().innerText().catch(() => ''));
  await shot('runs-09-run-folder.png');

  // 11. Delete, confirmed: Cancel keeps the run, Delete removes it from the view
  await showRunsView();
  const count = async () => (await rows()).filter((r) => r.level === 1 && r.desc.startsWith('end-to-end')).length;
  steps.workflow_runs_before_delete = await count();
  await clickRow(rowLocator(/^end-to-end/).last());
  await runCommand('Guild: Delete Runs');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: T });
  steps.delete_dialog = squeeze(await dialog.innerText());
  await shot('runs-10-delete-confirm.png');
  await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
  await dialog.waitFor({ state: 'detached', timeout: T }).catch(() => {});
  steps.workflow_runs_after_cancel = await count();
  await clickRow(rowLocator(/^end-to-end/).last());
  await runCommand('Guild: Delete Runs');
  await dialog.waitFor({ timeout: T });
  await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).first().click();
  steps.workflow_runs_after_delete = await until(page, async () => {
    const n = await count();
    return n < steps.workflow_runs_before_delete ? n : undefined;
  }, T) ?? await count();
}

module.exports = { runsScenario, until, webviewFrame };
