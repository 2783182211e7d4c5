#!/usr/bin/env node
// vscode_e2e.js: the guildls extension in real VS Code (code-server), driven
// through headless Debian Chromium with playwright-core, the way a person
// works: open guild.yml, wait for the planted error's squiggle and the
// "Run workflow" code lens, click it, watch the progress notification and the
// run's output channel, open "Show plan", run the slow operation with
// Guild: Run Workflow and cancel it from its notification, reload the window
// to time cold starts with the file already open.
// Builds on ../shared/tools/real-clients/vscode_web_probe.js (same selectors);
// test_vscode.py starts code-server and reads result.json.
//
// usage: NODE_PATH=<playwright-core dir> node vscode_e2e.js --url URL --folder WS
//          --file guild.yml --out DIR [--lens "Run workflow"] [--timeout 60000]
//          [--run-timeout 180000] [--planted-line N] [--slow-line N] [--workflow-line N]
//          [--cancel 1] [--reload 3]
//          [--scenario main|untrusted|nopython|runs|dask|cap]
// --scenario untrusted: the folder is not trusted (Restricted Mode): the server still
//   analyses (a squiggle), the language status hover names the interpreter and says
//   the workspace's is not used, and a click on "Run workflow" must be refused with a
//   message saying why;
// --scenario runs: the Guild Runs view, Run with flags, Compare, Plots and the
//   workflow graph (vscode_runs.js);
// --scenario nopython: guildls.python names a missing or too old interpreter: a notification
//   says so, and its "Open Setting" button opens the setting.
// --scenario dask: guildls.run.daskScheduler names a scheduler nobody listens on: Guild: Run
//   Workflow on a batch workflow (--workflow-line) reaches the server with that address, and the
//   run's output channel says why the cluster cannot be used (no guildls[dask] in the bundled
//   server, or the scheduler unreachable).
// --scenario cap: guild.yml has over 1,000 problems: the Problems status item counts exactly
//   1,000 (guildls.maxDiagnostics) and the Problems view lists guildls's "N more problems are
//   not shown" note.
// --planted-line: 0-based line of the planted error (an unknown attribute);
// --workflow-line: 0-based line of the workflow operation (revealed before the lens is looked for);
// --slow-line: 0-based line of an operation that runs until stopped (cancel test).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { runsScenario, until: pollUntil } = require('./vscode_runs');

function parseArgs(argv) {
  const a = {
    url: '', folder: '', file: 'guild.yml', out: './vscode-e2e-out', lens: 'Run workflow',
    timeout: 60000, 'run-timeout': 180000, 'planted-line': 0, 'slow-line': 0, 'workflow-line': 0, 'train-line': 0, cancel: 1, reload: 3,
    chromium: '/usr/bin/chromium', width: 1280, height: 800, scenario: 'main',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a)) throw new Error(`unknown option --${k}`);
    a[k] = argv[i + 1];
  }
  for (const k of ['timeout', 'run-timeout', 'planted-line', 'slow-line', 'workflow-line', 'train-line', 'cancel', 'reload', 'width', 'height']) a[k] = Number(a[k]);
  return a;
}

const squeeze = (s) => String(s || '').replace(/\s+/g, ' ').trim();
// monaco renders spaces as U+00A0
const plain = (s) => String(s || '').replace(/\u00a0/g, ' ');

async function main() {
  const a = parseArgs(process.argv);
  fs.mkdirSync(a.out, { recursive: true });
  const res = { timings_ms: {}, errors: [], screenshots: [], steps: {}, console_errors: [] };
  const t0 = Date.now();
  const mark = (k) => { res.timings_ms[k] = Date.now() - t0; };
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-e2e-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: a.chromium, headless: true, viewport: { width: a.width, height: a.height },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && res.console_errors.length < 30) res.console_errors.push(m.text()); });
  const shot = async (name) => {
    const p = path.join(a.out, name);
    await page.screenshot({ path: p });
    res.screenshots.push(p);
  };
  const toasts = page.locator('.notifications-toasts .notification-toast');
  const toastTexts = async () => (await toasts.allInnerTexts().catch(() => [])).map(squeeze);
  const statusTexts = async () => (await page.locator('.statusbar-item').allInnerTexts().catch(() => []))
    .map(squeeze).filter((s) => /guild/i.test(s));
  const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: a.lens });
  const squiggle = page.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning');
  // the Output view's text (monaco renders only the visible lines: accumulate)
  const outputSeen = [];
  const readOutput = async () => {
    const t = plain(await page.locator('#workbench\\.parts\\.panel .monaco-editor .view-lines').first().innerText().catch(() => ''));
    for (const line of t.split('\n')) if (line.trim() && !outputSeen.includes(line)) outputSeen.push(line);
    return outputSeen.join('\n');
  };
  const waitOutput = async (re, ms) => Boolean(await until(async () => re.test(await readOutput()), ms));
  const openFile = async () => {
    const base = path.basename(a.file);
    const tab = `.tab[data-resource-name="${base}"]`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt === 0) {
        // the explorer row, as a person clicks it
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: base }).first().click().catch(() => {});
      } else {
        // Quick Open, once its result list shows the file
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+P');
        await page.waitForSelector('.quick-input-widget input', { timeout: a.timeout });
        await page.keyboard.type(a.file);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first()
          .waitFor({ timeout: 10000 }).catch(() => {});
        await page.keyboard.press('Enter');
      }
      if (await page.waitForSelector(tab, { timeout: 10000 }).then(() => true, () => false)) return;
    }
    await page.waitForSelector(tab, { timeout: a.timeout });
  };
  const gotoLine = async (line1) => {
    // the cursor is there once the status bar says so; an Enter that Quick Open took before
    // it listed the line moves nothing: try again until it shows, as a person would
    const there = page.locator('#status\\.editor\\.selection', { hasText: new RegExp(`Ln ${line1},`) }).first();
    const moved = await until(async () => {
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+P');
      await page.waitForSelector('.quick-input-widget input', { timeout: a.timeout });
      await page.keyboard.type(`:${line1}`);
      await page.keyboard.press('Enter');
      return there.waitFor({ timeout: 10000 }).then(() => true);
    }, a.timeout);
    if (!moved) throw new Error(`the cursor never reached line ${line1} (the status bar never said Ln ${line1})`);
  };
  // poll a condition the user would see (a notification's text, the status bar) until it holds
  const until = (fn, ms) => pollUntil(page, fn, ms, 200);
  // every text a progress notification (one with a Cancel button) shows from now on, as the
  // page draws it: a quick run changes it faster than any polling reads it
  const recordProgressTexts = () => page.evaluate(() => {
    const seen = (window.__progressTexts = []);
    const note = () => {
      for (const t of document.querySelectorAll('.notifications-toasts .notification-toast')) {
        if (![...t.querySelectorAll('.monaco-button')].some((b) => b.textContent.trim() === 'Cancel')) continue;
        const s = (t.innerText || '').replace(/\s+/g, ' ').trim();
        if (s && !seen.includes(s)) seen.push(s);
      }
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const recordedProgressTexts = () => page.evaluate(() => window.__progressTexts || []).catch(() => []);
  const runCommand = async (title) => {
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget input', { timeout: a.timeout });
    await page.keyboard.type(title);
    // Enter once the command's row is listed (on a busy machine it comes late)
    await page.locator('.quick-input-list .monaco-list-row', { hasText: title.replace(/^[^:]+:\s*/, '') }).first()
      .waitFor({ timeout: a.timeout }).catch(() => {});
    await page.keyboard.press('Enter');
  };

  const scenario = async (name) => {
    if (name === 'dask') {
      // the cursor inside the batch workflow, once the server's lenses show it is analysed
      await gotoLine(a['workflow-line'] + 2);
      await lens.first().waitFor({ timeout: a.timeout });
      outputSeen.length = 0;
      await runCommand('Guild: Run Workflow');
      const why = /cannot reach the Dask scheduler|guildls\[dask\]/;
      if (!await waitOutput(why, a['run-timeout'])) res.errors.push('the run output never said why the Dask cluster cannot be used');
      if (!await waitOutput(/^■ /m, a.timeout)) res.errors.push('the run never finished in its output channel');
      res.steps.run_output = outputSeen.slice();
      res.steps.toasts = await toastTexts();
      // the ended run gives its lens back: no "Stop (running)" stays above the workflow
      const stopLens = page.locator('.monaco-editor .codelens-decoration a', { hasText: /^Stop \(running\)/ });
      await until(async () => (await stopLens.count()) === 0, a.timeout);
      res.steps.stop_lens_after_run = await stopLens.count();
      await shot('dask-unreachable.png');
    } else if (name === 'cap') {
      // guild.yml has 1,500 more problems than VS Code shows (1,000 per file): the server
      // sends 999 of them (errors first) and, last, its own note of how many more there are
      const counts = async () => (squeeze(await page.locator('#status\\.problems').innerText({ timeout: 2000 })
        .catch(() => '')).match(/\d+/g) || []).map(Number);
      res.steps.problem_counts = await until(async () => {
        const n = await counts();
        return n.reduce((x, y) => x + y, 0) >= 1000 ? n : null;
      }, a.timeout) || await counts();
      await page.keyboard.press('Control+Shift+M');
      const filter = page.locator('.markers-panel-action-filter input, .viewpane-filter input').first();
      await filter.waitFor({ timeout: a.timeout });
      await filter.fill('more problems are not shown');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'more problems are not shown' }).first();
      res.steps.note_row = await row.waitFor({ timeout: a.timeout })
        .then(async () => squeeze(await row.innerText()), () => '');
      await shot('cap-problems.png');
    } else if (name === 'untrusted') {
      res.steps.restricted_mode = await page.locator('.statusbar-item', { hasText: /Restricted Mode/ }).first()
        .waitFor({ timeout: a.timeout }).then(() => true, () => false);
      await gotoLine(a['workflow-line'] + 1);
      // the server analyses anyway: the planted error's squiggle
      res.steps.squiggle = await squiggle.first().waitFor({ state: 'attached', timeout: a.timeout }).then(() => true, () => false);
      // and the language status ("{}" beside the language mode) says which interpreter
      // runs it, and why
      const guildItem = page.locator('#status\\.languageStatus').first();
      const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: /untrusted workspace/ }).first();
      res.steps.status_hover = await until(async () => {
        if (!(await hover.isVisible().catch(() => false))) {
          await page.mouse.move(5, 5);
          await guildItem.hover({ timeout: 2000 }).catch(() => {});
          await hover.waitFor({ timeout: 3000 }).catch(() => {});
        }
        return (await hover.isVisible().catch(() => false)) ? squeeze(await hover.innerText().catch(() => '')) : '';
      }, a.timeout) || '';
      await shot('untrusted-interpreter.png');
      await page.mouse.move(640, 300);
      await hover.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
      await lens.first().waitFor({ timeout: a.timeout });
      await lens.first().click();
      const refusal = toasts.filter({ hasText: /not trusted/ }).first();
      await refusal.waitFor({ timeout: a.timeout }).catch(() => res.errors.push('no "not trusted" message after the lens click'));
      await refusal.locator('.monaco-button').first().waitFor({ timeout: a.timeout }).catch(() => {});
      res.steps.refusal = squeeze(await refusal.innerText({ timeout: 1000 }).catch(() => ''));
      res.steps.refusal_buttons = await refusal.locator('.monaco-button').allInnerTexts().catch(() => []);
      res.steps.run_channels = await page.locator('#workbench\\.parts\\.panel .monaco-select-box').first()
        .evaluate((el) => [...el.options].map((o) => o.text)).catch(() => []);
      await shot('untrusted-refused.png');
      // other YAML stays YAML, untouched by guildls
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'other.yml' }).first().click();
      await page.waitForSelector('.tab[data-resource-name="other.yml"]', { timeout: a.timeout });
      // the language mode of the file now in front (guildls would have made it "Guild")
      const mode = async () => squeeze(await page.locator('#status\\.editor\\.mode').innerText({ timeout: 2000 }).catch(() => ''));
      await until(async () => (await mode()) === 'YAML', a.timeout);
      res.steps.other_yaml_mode = await mode();
      // squiggles are counted once the editor draws other.yml (guild.yml's may linger a frame)
      await page.locator('#workbench\\.parts\\.editor .monaco-editor .view-lines', { hasText: 'not-a-guild-file' }).first()
        .waitFor({ timeout: a.timeout }).catch(() => res.errors.push('the editor never drew other.yml'));
      res.steps.other_yaml_squiggles = await squiggle.count();
      await shot('other-yaml.png');
    } else {
      const note = toasts.filter({ hasText: /Python interpreter/ }).first();
      await note.waitFor({ timeout: a.timeout }).catch(() => res.errors.push('no notification about the missing interpreter'));
      await note.locator('.monaco-button', { hasText: 'Open Setting' }).first().waitFor({ timeout: a.timeout }).catch(() => {});
      res.steps.notification = squeeze(await note.innerText({ timeout: 1000 }).catch(() => ''));
      // the status item turns to "Guild: error" around the time the notification shows
      res.steps.status_bar = await until(async () => {
        const t = await statusTexts();
        return t.some((s) => /error/i.test(s)) ? t : null;
      }, a.timeout) || await statusTexts();
      await shot('nopython-notification.png');
      await note.locator('.monaco-button', { hasText: 'Open Setting' }).first().click()
        .catch((e) => res.errors.push('Open Setting: ' + e.message.split('\n')[0]));
      const setting = page.locator('.settings-editor .setting-item-contents', { hasText: /guildls|Python interpreter/ }).first();
      res.steps.setting_shown = await setting.waitFor({ timeout: a.timeout }).then(() => true, () => false);
      res.steps.setting_text = squeeze(await setting.innerText({ timeout: 1000 }).catch(() => ''));
      await shot('nopython-setting.png');
    }
  };

  let exitCode = 0;
  try {
    await page.goto(`${a.url.replace(/\/$/, '')}/?folder=${encodeURIComponent(a.folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: a.timeout });
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: a.timeout });
    mark('workbench');
    await openFile();
    mark('file_opened');

    if (a.scenario === 'runs') {
      await runsScenario({ page, a, res, shot, toasts, lens, gotoLine, runCommand, squeeze, plain });
      throw null;
    }
    if (['untrusted', 'nopython', 'dask', 'cap'].includes(a.scenario)) {
      await scenario(a.scenario);
      throw null; // done: skip the main flow
    }

    // 1. the planted error: squiggle + Problems entry, and the code lenses
    await gotoLine(a['workflow-line'] + 1); // reveals the workflow (and the planted error above it)
    await squiggle.first().waitFor({ state: 'attached', timeout: a.timeout });
    mark('diagnostic_squiggle');
    await lens.first().waitFor({ timeout: a.timeout });
    mark('code_lens');
    res.steps.code_lenses = await page.locator('.monaco-editor .codelens-decoration a').allInnerTexts();
    res.steps.squiggles = await squiggle.count();
    res.steps.status_bar_ready = await statusTexts();
    await shot('01-diagnostic-and-codelens.png');
    await page.keyboard.press('Control+Shift+M');
    const markers = page.locator('.markers-panel .monaco-list-row');
    // the planted problem's row (rows read "... [Ln N, Col M]"); the panel may draw others first
    await markers.filter({ hasText: `[Ln ${a['planted-line'] + 1},` }).first().waitFor({ timeout: a.timeout })
      .catch((e) => res.errors.push('problems panel: ' + e.message.split('\n')[0]));
    res.steps.problems = (await markers.allInnerTexts().catch(() => [])).map(squeeze);
    await shot('02-problems.png');
    await page.keyboard.press('Control+Shift+M');
    await markers.first().waitFor({ state: 'hidden', timeout: a.timeout }).catch(() => {});

    // 2. click "Run workflow": progress notification, run output channel, status bar
    const lensTarget = (await lens.first().innerText()).trim();
    res.steps.clicked_lens = lensTarget;
    outputSeen.length = 0;
    await recordProgressTexts();
    await lens.first().click();
    mark('run_clicked');
    const progress = toasts.filter({ has: page.locator('.monaco-button', { hasText: /^Cancel$/ }) });
    const gotProgress = await progress.first().waitFor({ timeout: a.timeout }).then(() => true, () => false);
    if (gotProgress) {
      mark('progress_notification');
      res.steps.status_bar_running = await statusTexts();
      res.steps.progress_texts = [];
      // read the notification until it says which step runs (or is gone)
      await until(async () => {
        const t = squeeze(await progress.first().innerText({ timeout: 500 }).catch(() => ''));
        if (t && !res.steps.progress_texts.includes(t)) res.steps.progress_texts.push(t);
        if (!/step \d+ of \d+/.test(t)) return !t;
        await shot('04-run-progress.png');
        return true;
      }, a.timeout);
      if (!res.screenshots.some((p) => p.endsWith('04-run-progress.png'))) await shot('04-run-progress.png');
      for (const t of await recordedProgressTexts()) if (!res.steps.progress_texts.includes(t)) res.steps.progress_texts.push(t);
    } else {
      res.errors.push('no progress notification with a Cancel button after clicking the lens');
      await shot('04-run-progress.png');
    }
    if (!res.steps.status_bar_running) res.steps.status_bar_running = await statusTexts();
    const started = await waitOutput(/running/i, a.timeout);
    mark('run_output_seen');
    if (!started) res.errors.push('run output channel never showed a "running" line');
    const finished = await waitOutput(/^■ .+ (completed|failed|error|stopped|terminated)/m, a['run-timeout']);
    mark('run_finished');
    if (!finished) res.errors.push('run output channel never showed the finish line');
    res.steps.run_output = outputSeen.slice();
    res.steps.output_channel = await page.locator('#workbench\\.parts\\.panel .monaco-select-box').first()
      .evaluate((el) => el.value || el.title || el.textContent).catch(() => null);
    res.steps.toasts_after_run = await toastTexts();
    res.steps.status_bar_after_run = await statusTexts();
    await shot('05-run-output.png');

    // 2b. "Show plan": the plan opens beside the guild file
    {
      const planLens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Show plan' }).first();
      // the lenses are drawn again once the run ends: wait for the plan lens to be there
      if (await planLens.waitFor({ timeout: a.timeout }).then(() => true, () => false)) {
        await planLens.click();
        const planTab = page.locator('.tab', { hasText: /\.plan/ }).first();
        if (await planTab.waitFor({ timeout: a.timeout }).then(() => true, () => false)) {
          res.steps.plan_tab = squeeze(await planTab.innerText());
          const planLines = page.locator('.editor-group-container').last().locator('.view-lines').first();
          await until(async () => {
            res.steps.plan_text = plain(await planLines.innerText({ timeout: 1000 }).catch(() => ''));
            return res.steps.plan_text.split('\n').length > 2;
          }, a.timeout);
          await shot('05b-show-plan.png');
          // close the plan (its tab's close button; the guild file keeps the focus)
          await planTab.hover();
          await planTab.locator('.codicon-close').first().click().catch((e) => res.errors.push('closing the plan: ' + e.message.split('\n')[0]));
          await planTab.waitFor({ state: 'detached', timeout: a.timeout }).catch(() => {});
        } else {
          res.errors.push('"Show plan" opened no plan document');
        }
      } else {
        res.errors.push('no "Show plan" lens in view');
      }
    }

    // 3. Guild: Run Workflow from the palette on the slow operation (cursor
    //    inside it), cancelled from the progress notification
    if (a.cancel) {
      for (const t of await toasts.locator('.codicon-notifications-clear').all()) await t.click().catch(() => {});
      outputSeen.length = 0;
      await gotoLine(a['slow-line'] + 2);
      await runCommand('Guild: Run Workflow');
      const p2 = toasts.filter({ has: page.locator('.monaco-button', { hasText: /^Cancel$/ }) }).first();
      if (await p2.waitFor({ timeout: a.timeout }).then(() => true, () => false)) {
        if (!await waitOutput(/slow: tick/, a.timeout)) res.errors.push('the slow run never printed a tick');
        // the status bar names the running operation (it may follow the output)
        res.steps.status_bar_slow = await until(async () => {
          const t = await statusTexts();
          return t.some((s) => /Guild: slow/.test(s)) ? t : null;
        }, a.timeout) || await statusTexts();
        await shot('06-slow-run.png');
        await p2.locator('.monaco-button', { hasText: /^Cancel$/ }).first().click();
        mark('cancel_clicked');
        const ended = await waitOutput(/^■ .+ (completed|failed|error|stopped|terminated|cancel+ed)/m, a.timeout);
        res.steps.cancel_output = outputSeen.slice();
        if (!ended) res.errors.push('cancelled run never finished in its output channel');
        mark('cancelled_run_finished');
      } else {
        res.steps.cancel_output = null;
        res.errors.push('Guild: Run Workflow on the slow operation: no progress notification to cancel');
      }
      // the status bar drops the stopped run
      await until(async () => !(await statusTexts()).some((s) => /Guild: slow/.test(s)), a.timeout);
      res.steps.status_bar_after_cancel = await statusTexts();
      await shot('07-run-cancelled.png');
    }

    // 4. cold start with guild.yml already open: reload the window (--reload times)
    for (let n = 1; n <= a.reload; n++) {
      // the reload itself: the old workbench stays on the page until it happens
      const reloaded = page.waitForEvent('load', { timeout: a.timeout });
      await runCommand('Developer: Reload Window');
      mark(`reload_${n}`);
      await reloaded;
      await page.waitForSelector('.monaco-workbench', { timeout: a.timeout });
      // the code lens: the server answers again
      await page.waitForSelector('.monaco-editor .view-lines', { timeout: a.timeout }).catch(() => {});
      await gotoLine(a['workflow-line'] + 1).catch(() => {});
      await lens.first().waitFor({ timeout: a.timeout })
        .catch((e) => res.errors.push('after reload: ' + e.message.split('\n')[0]));
      mark(`reload_${n}_code_lens`);
      // and the diagnostics (the extension logs its cold start when they arrive)
      await squiggle.first().waitFor({ state: 'attached', timeout: a.timeout })
        .catch((e) => res.errors.push('no diagnostics after reload: ' + e.message.split('\n')[0]));
      // the status bar item is back once the server answers
      res.steps.status_bar_after_reload = await until(async () => {
        const t = await statusTexts();
        return t.length ? t : null;
      }, a.timeout) || [];
      await shot('06-after-reload.png');
    }
  } catch (e) {
    if (e === null) { /* a scenario finished */ } else {
    res.errors.push(String(e && e.stack || e).split('\n').slice(0, 3).join(' | '));
    await shot('99-failure.png').catch(() => {});
    exitCode = 1;
    }
  } finally {
    mark('total');
    fs.writeFileSync(path.join(a.out, 'result.json'), JSON.stringify(res, null, 2));
    await ctx.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ timings_ms: res.timings_ms, errors: res.errors }));
  process.exit(exitCode || (res.errors.length ? 1 : 0));
}

main().catch((e) => { console.error(e); process.exit(2); });
