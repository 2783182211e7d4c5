#!/usr/bin/env node
// vscode_typing.js: a new user types a guild.yml key by key in real VS Code
// (code-server + headless Chromium, playwright-core). Checks what they see:
//   - the suggest widget opens on letters (no Ctrl+Space), and again after
//     accepting `main` (the module list, from the project's Python files);
//   - Enter after `train:` indents by 2 spaces;
//   - `$` then `{` (auto-closed to `${}`) and accepting `lr` gives exactly
//     `${lr}` with the cursor after the brace (the next word lands outside);
//   - one status bar item reads "Guild" once the server is ready.
// Every wait is on a condition (widget visible, text present), never a sleep
// standing in for one. Screenshots and result.json go to --out.
//
// usage: NODE_PATH=<playwright-core dir> node vscode_typing.js --url URL --folder WS --out DIR
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const a = { url: '', folder: '', out: './vscode-typing-out', timeout: 60000, chromium: '/usr/bin/chromium' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a)) throw new Error(`unknown option --${k}`);
    a[k] = argv[i + 1];
  }
  a.timeout = Number(a.timeout);
  return a;
}

const plain = (s) => String(s || '').replace(/\u00a0/g, ' ');

async function main() {
  const a = parseArgs(process.argv);
  fs.mkdirSync(a.out, { recursive: true });
  const res = { steps: {}, errors: [], screenshots: [] };
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-typing-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: a.chromium, headless: true, viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const shot = async (name) => {
    const p = path.join(a.out, name);
    await page.screenshot({ path: p });
    res.screenshots.push(p);
  };
  const editor = '#workbench\\.parts\\.editor .monaco-editor';
  // the document's lines as rendered (a short file: every line is in view)
  const lines = async () => page.evaluate((sel) => {
    const rows = [...document.querySelectorAll(`${sel} .view-lines .view-line`)];
    rows.sort((x, y) => parseInt(x.style.top, 10) - parseInt(y.style.top, 10));
    return rows.map((r) => r.textContent.replace(/\u00a0/g, ' '));
  }, editor);
  const waitLines = async (pred, what) => {
    const end = Date.now() + a.timeout;
    while (Date.now() < end) {
      const ls = await lines();
      if (pred(ls)) return ls;
      await page.waitForTimeout(100);
    }
    throw new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(await lines())}`);
  };
  // the suggest widget lives in the workbench's overflow layer, not inside the editor element
  const suggest = page.locator('.suggest-widget.visible');
  const suggestRow = (label) => suggest.locator('.monaco-list-row', { hasText: label }).first();
  const waitSuggest = async (label, what) => {
    await suggestRow(label).waitFor({ timeout: a.timeout })
      .catch(() => { throw new Error(`no suggest widget with "${label}" ${what}`); });
    return (await suggest.locator('.monaco-list-row').allInnerTexts()).map((t) => plain(t).replace(/\s+/g, ' ').trim());
  };
  const type = async (text) => { for (const ch of text) await page.keyboard.type(ch, { delay: 40 }); };

  let exitCode = 0;
  try {
    await page.goto(`${a.url.replace(/\/$/, '')}/?folder=${encodeURIComponent(a.folder)}`);
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: a.timeout });
    const open = async (name) => {
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
      await page.waitForSelector(`.tab[data-resource-name="${name}"]`, { timeout: a.timeout });
    };
    // the project's other guild file first: its squiggle says the server is up and answering
    await open('prepare.guild.yml');
    await page.locator(`${editor} .squiggly-warning, ${editor} .squiggly-error`).first()
      .waitFor({ state: 'attached', timeout: a.timeout * 3 });
    // then the new, empty guild.yml
    await open('guild.yml');
    await page.locator(`${editor} .view-lines`).first().click();
    await page.locator('#status\\.editor\\.mode', { hasText: 'Guild' }).waitFor({ timeout: a.timeout });
    // the indentation item follows the language mode: read it once it shows Guild's 2 spaces
    const indentation = page.locator('.statusbar-item', { hasText: /Spaces|Tab Size/ }).first();
    await page.locator('.statusbar-item', { hasText: 'Spaces: 2' }).first().waitFor({ timeout: a.timeout }).catch(() => {});
    res.steps.indentation_status = await indentation.innerText({ timeout: a.timeout }).then(plain, () => '');

    // 1. a top-level key, then Enter: indented by 2
    await type('train:');
    await page.keyboard.press('Escape'); // a suggestion list may be open on the key
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await type('m');
    res.steps.suggest_on_letter = await waitSuggest('main', 'after typing "m"').catch(async (e) => {
      // say what the user saw, then whether the server had the items (Ctrl+Space)
      await shot('01-no-suggest-on-letter.png');
      await page.keyboard.press('Control+Space');
      res.steps.after_ctrl_space = await waitSuggest('main', 'after Ctrl+Space').catch(() => []);
      throw e;
    });
    res.steps.indent_after_key = (await waitLines((ls) => ls.length > 1 && ls[1].includes('m'), 'the typed "m" on line 2'))[1]
      .match(/^ */)[0].length;
    await shot('01-suggest-on-letter.png');
    // 2. accept `main`: the value list opens by itself with the project's modules
    await suggestRow('main').click();
    res.steps.modules_after_main = await waitSuggest('train', 'after accepting "main"');
    await shot('02-modules-after-main.png');
    await suggestRow('train').click();
    await waitLines((ls) => ls[1] === '  main: train', '"  main: train"');
    await page.keyboard.press('Escape');
    // 3. flags and an exec with a ${ref}, typed through completion
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await type('flags:');
    await page.keyboard.press('Escape');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await type('lr: 0.1');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    // the new line is rendered after the key press returns: wait for it
    res.steps.indent_in_flags = (await waitLines((ls) => ls.length > 4, 'the new line after "lr: 0.1"'))[4]
      .match(/^ */)[0].length;
    await page.keyboard.press('Shift+Tab'); // back to the operation's attributes
    await type('exec: python train.py --lr $');
    await type('{');
    const afterBrace = await waitLines((ls) => ls.some((l) => l.includes('--lr ${}')), 'the auto-closed ${}');
    res.steps.auto_closed = afterBrace.find((l) => l.includes('--lr ${'));
    await type('l'); // a letter inside the braces: the list (opened by `{`) narrows to `lr`
    await waitLines((ls) => ls.some((l) => l.includes('--lr ${l}')), '${l}');
    res.steps.ref_suggestions = await waitSuggest('lr', 'inside ${l}');
    await shot('03-ref-suggestions.png');
    await page.keyboard.press('Enter');
    await type(' --epochs 2');
    const done = await waitLines((ls) => ls.some((l) => l.includes('--epochs 2')), 'the text typed after the reference');
    res.steps.exec_line = done.find((l) => l.includes('exec:'));
    res.steps.document = done;
    await page.keyboard.press('Escape');
    // the status bar: the language mode is the one "Guild" item once the server is ready
    await page.locator(`${editor} .squiggly-error, ${editor} .squiggly-warning`).first()
      .waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
    res.steps.status_bar = (await page.locator('.statusbar-item').allInnerTexts()).map((t) => plain(t).trim())
      .filter((t) => /guild/i.test(t));
    await shot('04-typed.png');
  } catch (e) {
    res.errors.push(String(e && e.stack || e).split('\n').slice(0, 3).join(' | '));
    await shot('99-failure.png').catch(() => {});
    exitCode = 1;
  } finally {
    fs.writeFileSync(path.join(a.out, 'result.json'), JSON.stringify(res, null, 2));
    await ctx.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(res));
  process.exit(exitCode);
}

main().catch((e) => { console.error(e); process.exit(2); });
