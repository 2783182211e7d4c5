// Bundles src/extension.ts (and vscode-languageclient) into dist/extension.js,
// and each webview (webview-ui/<view>.ts with its library: uPlot, elkjs) into
// dist/webviews/<view>.js + <view>.css, loaded by the webview page only.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const common = { bundle: true, minify: production, sourcemap: !production, sourcesContent: false, logLevel: 'info' };
await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension.ts'],
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outfile: 'dist/extension.js',
    external: ['vscode'],
  }),
  esbuild.build({
    ...common,
    entryPoints: ['compare', 'plots', 'graph'].map((v) => ({ in: `webview-ui/${v}.ts`, out: v })),
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    outdir: 'dist/webviews',
    // a view's CSS: its own file, plus its library's (imported by the view)
    loader: { '.css': 'css' },
  }),
]);
