#!/usr/bin/env node
/**
 * Builds the WeChat mini-program (miniprogram/) into a plain-JS tree: the .ts compiled to
 * CommonJS, the .json/.wxml/.wxss copied beside them — the shape miniprogram-simulate loads and
 * the Node tests require. (WeChat DevTools does not need it: it compiles the .ts itself.)
 *
 *   node scripts/build-miniprogram.js [outDir]   type-check with `tsc -p miniprogram/tsconfig.json`
 *                                                 and emit to outDir (default dist/mp) — npm run build, npm test
 *   require('./build-miniprogram').buildMiniprogram({ outDir, typecheck: false })
 *                                                 transpile only (fast; each jest file builds its own copy)
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'miniprogram');
const tsconfigPath = path.join(src, 'tsconfig.json');
const ASSETS = new Set(['.json', '.wxml', '.wxss', '.wxs', '.png', '.jpg', '.svg']);

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'miniprogram_npm') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function copyAssets(outDir) {
  for (const f of walk(src)) {
    if (f === tsconfigPath || !ASSETS.has(path.extname(f))) continue;
    const to = path.join(outDir, path.relative(src, f));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(f, to);
  }
}

function compilerOptions(ts) {
  const cfg = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(cfg.config, ts.sys, src).options;
}

/**
 * @param {{ outDir?: string, typecheck?: boolean }} opts
 * @returns {string} the output directory
 * @throws Error when tsc reports errors (typecheck) or a file fails to transpile
 */
function buildMiniprogram(opts = {}) {
  const outDir = path.resolve(opts.outDir || path.join(root, 'dist', 'mp'));
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  if (opts.typecheck !== false) {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    const r = spawnSync(process.execPath, [tsc, '-p', tsconfigPath, '--outDir', outDir], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tsc -p miniprogram/tsconfig.json failed (exit ${r.status ?? r.signal})`);
  } else {
    const ts = require(require.resolve('typescript', { paths: [root] }));
    const options = { ...compilerOptions(ts), outDir: undefined, rootDir: undefined, sourceMap: false, declaration: false };
    for (const f of walk(src)) {
      if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue;
      const out = ts.transpileModule(fs.readFileSync(f, 'utf8'), { compilerOptions: options, fileName: f, reportDiagnostics: true });
      const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length) throw new Error(`${path.relative(root, f)}: ${ts.flattenDiagnosticMessageText(errors[0].messageText, '\n')}`);
      const to = path.join(outDir, path.relative(src, f)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, out.outputText);
    }
  }
  copyAssets(outDir);
  return outDir;
}

module.exports = { buildMiniprogram };

if (require.main === module) {
  try {
    const out = buildMiniprogram({ outDir: process.argv[2], typecheck: true });
    process.stdout.write(`mini-program built into ${path.relative(root, out) || '.'}\n`);
  } catch (e) {
    process.stderr.write(`build-miniprogram: ${e.message}\n`);
    process.exit(1);
  }
}
