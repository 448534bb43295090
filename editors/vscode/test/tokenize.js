// Tokenize .map files with the engine VS Code uses; print {file: [[line, start, end, scopes], ...]} as JSON.
// Usage: node tokenize.js FILE...   (run by tests/test_editor_grammar.py after `npm install` here)
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const grammarPath = path.join(__dirname, '..', 'syntaxes', 'paymap.tmLanguage.json');
const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));

const onigLib = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength)).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));

const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    if (scopeName !== 'source.paymap') return null;
    return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
  },
});

(async () => {
  const grammar = await registry.loadGrammar('source.paymap');
  if (!grammar) throw new Error('grammar source.paymap not found');
  const out = {};
  for (const file of process.argv.slice(2)) {
    const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    let stack = vsctm.INITIAL;
    const tokens = [];
    lines.forEach((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      for (const t of r.tokens) tokens.push([i + 1, t.startIndex, t.endIndex, t.scopes]);
      stack = r.ruleStack;
    });
    out[file] = tokens;
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
