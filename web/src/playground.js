// The page of `paymap playground`: an editor for .map files, a webhook body, and what the real
// compiler and runtime (behind /api, see runtime/playground/) make of them, as you type.
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  hoverTooltip } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, syntaxHighlighting, defaultHighlightStyle, indentOnInput } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { mapLanguage, setConstants } from "./maplang.js";
import { call, ApiError, sizeText, el } from "./api.js";
import { takeWebhook } from "./handover.js";
import "./playground.css";

const DEBOUNCE_MS = 40; // the server answers in ~50 ms for the shipped files: ≤150 ms keystroke→output
const OTHERS_SHOWN = 3; // problems of the other files spelt out under the editor (the rest counted)

const $ = (id) => document.getElementById(id);

const S = {
  meta: null,
  path: null, // the open file, relative to PATH
  saved: new Map(), // path -> text on disk (as last read or saved)
  buffers: new Map(), // path -> unsaved text, kept when switching files
  sample: null, // the sample type the body came from (for "Save as test")
  eventType: null,
  paths: new Map(), // event type -> [{path, type, ...}] from the Dodo schema
  builtins: new Map(),
  seq: 0,
  timer: null,
  lastCompile: null,
  lastOutput: null,
  consts: new Map(), // constant name -> {name, value, file, line}, from the last compile (every file under PATH)
  groups: new Map(), // group name -> {name, file, line, lines}
  rules: [], // the edited file's rules: {line, end_line, patterns}
};

// ---------------------------------------------------------------------------------------------
// positions: the server counts lines and columns in characters (code points), 1-based

function offsetOf(doc, line, column) {
  const ln = doc.line(Math.min(Math.max(line, 1), doc.lines));
  let units = 0;
  let chars = 1;
  for (const ch of ln.text) {
    if (chars >= column) break;
    units += ch.length;
    chars += 1;
  }
  return ln.from + units;
}

function rangeOf(doc, d) {
  const from = offsetOf(doc, d.line, d.column);
  let to = offsetOf(doc, d.end_line || d.line, d.end_column || d.column);
  if (to <= from) to = Math.min(from + 1, doc.line(Math.min(Math.max(d.line, 1), doc.lines)).to);
  return { from, to: Math.max(from, to) };
}

function jumpTo(line, column) {
  const pos = offsetOf(view.state.doc, line, column || 1);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

// ---------------------------------------------------------------------------------------------
// completion and hover: data from the server (Dodo schema, builtin registry); no logic of their own

async function pathsFor(type) {
  if (!type) return [];
  if (!S.paths.has(type)) {
    S.paths.set(type, []);
    try {
      S.paths.set(type, (await call("paths", { event_type: type })).paths);
    } catch (err) {
      S.paths.delete(type);
    }
  }
  return S.paths.get(type);
}

function pathInfo(p) {
  const bits = [p.type];
  if (p.optional) bits.push("may be missing");
  if (p.nullable) bits.push("may be null");
  return bits.join("; ") + (p.doc ? `\n${p.doc}` : "") + (p.note ? `\n${p.note}` : "");
}

async function complete(ctx) {
  const line = ctx.state.doc.lineAt(ctx.pos);
  const before = line.text.slice(0, ctx.pos - line.from);
  const on = before.match(/^\s*(also\s+)?on\s+(.*?")([^"]*)$/);
  if (on) {
    const from = ctx.pos - on[3].length;
    return { from, options: S.meta.known_types.map((t) => ({ label: t, type: "enum", detail: "Dodo event type" })),
      validFor: /^[\w.*]*$/ };
  }
  if (/^\s*#/.test(before) || (before.split('"').length - 1) % 2 === 1) return null;
  const use = before.match(/^\s*use\s+(?:[A-Za-z_]\w*\s*,\s*)*([A-Za-z_]\w*)?$/);
  if (use) {
    const typed = use[1] || "";
    return { from: ctx.pos - typed.length, options: [...S.groups.values()].map(groupOption), validFor: /^\w*$/ };
  }
  if (/^\s*(const|group)\s+\w*$/.test(before) || /^\s*defaults\b/.test(before)) return null; // a name being declared
  const word = ctx.matchBefore(/[A-Za-z_][\w.[\]*]*$/);
  if (!word && !ctx.explicit) return null;
  const from = word ? word.from : ctx.pos;
  const left = !before.includes("=") && !/^\s*(on|also|let|input|drop|if)\b/.test(before);
  if (left) {
    return {
      from,
      options: S.meta.targets.map((t) => ({ label: t.name, type: "property", detail: "Inngest event field", info: t.doc }))
        .concat(["let", "drop", "on", "also on", "use", "const", "group", "defaults"].map((k) => ({ label: k, type: "keyword" }))),
    };
  }
  const paths = await pathsFor(S.eventType);
  const options = paths.map((p) => ({ label: p.path, type: "variable", detail: p.type.length > 40 ? p.type.slice(0, 40) + "…" : p.type, info: pathInfo(p) }));
  for (const b of S.meta.builtins) {
    options.push({ label: b.name, type: "function", detail: b.signature.slice(b.name.length), info: b.summary,
      apply: (v, c, f, t) => v.dispatch({ changes: { from: f, to: t, insert: `${b.name}()` }, selection: { anchor: f + b.name.length + 1 } }) });
  }
  for (const c of S.consts.values()) {
    options.push({ label: c.name, type: "constant", detail: `= ${short(c.value)}`, info: `const ${c.name} = ${c.value}\n(${c.file}:${c.line})`, boost: 1 });
  }
  for (const k of ["type", "timestamp", "business_id", "data"]) {
    if (!paths.some((p) => p.path === k)) options.push({ label: k, type: "variable", detail: "envelope" });
  }
  for (const k of ["if", "then", "else", "match", "and", "or", "not", "true", "false", "null"]) {
    options.push({ label: k, type: "keyword" });
  }
  return { from, options, validFor: /^[\w.[\]*]*$/ };
}

function short(text) {
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}

function groupOption(g) {
  return { label: g.name, type: "namespace", detail: `group · ${g.file}:${g.line}`, info: groupText(g) };
}

function groupText(g) {
  return `group ${g.name}   (${g.file}:${g.line})\n` + g.lines.map((l) => `  ${l}`).join("\n");
}

// names declared under PATH, from the last compile (the edited text included)
function setDeclarations(compiled) {
  if (!compiled.declarations) return;
  S.consts = new Map(compiled.declarations.consts.map((c) => [c.name, c]));
  S.groups = new Map(compiled.declarations.groups.map((g) => [g.name, g]));
  S.rules = compiled.rules || [];
  setConstants(S.consts.keys());
}

function declarationHover(word, lineText) {
  const onUse = /^\s*(use|group)\b/.test(lineText);
  const g = onUse ? S.groups.get(word) : null;
  if (g) {
    return el("div", { class: "hover", "data-testid": "hover" }, el("code", { class: "sig" }, `group ${g.name}`),
      el("p", { class: "muted" }, `declared at ${g.file}:${g.line}; ${g.lines.length} line${g.lines.length === 1 ? "" : "s"}`),
      el("pre", {}, g.lines.join("\n")));
  }
  const c = S.consts.get(word);
  if (c && !onUse) {
    return el("div", { class: "hover", "data-testid": "hover" }, el("code", { class: "sig" }, `const ${c.name} = ${c.value}`),
      el("p", { class: "muted" }, `declared at ${c.file}:${c.line}; the same for every event`));
  }
  return null;
}

const hover = hoverTooltip(async (v, pos) => {
  const line = v.state.doc.lineAt(pos);
  const text = line.text;
  let start = pos - line.from;
  let end = start;
  while (start > 0 && /[\w.[\]*]/.test(text[start - 1])) start--;
  while (end < text.length && /[\w.[\]*]/.test(text[end])) end++;
  if (start === end) return null;
  const word = text.slice(start, end);
  const fn = S.builtins.get(word);
  let dom = declarationHover(word, text);
  if (dom) {
    // a constant or a group: nothing more to look up
  } else if (fn && text[end] === "(") {
    dom = el("div", { class: "hover", "data-testid": "hover" },
      el("code", { class: "sig" }, fn.signature), el("p", {}, fn.summary), fn.details ? el("p", {}, fn.details) : null,
      fn.examples.length ? el("pre", {}, fn.examples.map(([x, r]) => `${x}  →  ${r}`).join("\n")) : null);
  } else if (/^[a-z_]/.test(word)) {
    const normal = word.replace(/\[\d+\]/g, "[0]").replace(/\[\*\]/g, "[0]");
    const found = (await pathsFor(S.eventType)).find((p) => p.path === normal);
    if (!found) return null;
    dom = el("div", { class: "hover", "data-testid": "hover" },
      el("code", { class: "sig" }, word), el("p", {}, `${found.type} (${S.eventType})`),
      found.optional || found.nullable ? el("p", {}, [found.optional && "may be missing", found.nullable && "may be null"].filter(Boolean).join("; ")) : null,
      found.doc ? el("p", { class: "doc" }, found.doc) : null,
      found.note ? el("p", {}, found.note) : null);
  }
  if (!dom) return null;
  return { pos: line.from + start, end: line.from + end, above: true, create: () => ({ dom }) };
});

// ---------------------------------------------------------------------------------------------
// the editor

const view = new EditorView({
  parent: $("editor"),
  state: EditorState.create({
    doc: "",
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
      indentOnInput(), bracketMatching(), closeBrackets(), highlightSelectionMatches(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }), mapLanguage, lintGutter(),
      autocompletion({ override: [complete] }), hover,
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap,
        ...lintKeymap, indentWithTab,
        { key: "Mod-s", preventDefault: true, run: () => { save(); return true; } }]),
      EditorView.updateListener.of((u) => { if (u.docChanged) { markDirty(); schedule(); } }),
    ],
  }),
});
window.paymapEditor = view; // for the browser tests and the curious

function setText(text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

function markDirty() {
  const dirty = S.path && S.saved.get(S.path) !== view.state.doc.toString();
  $("dirty").textContent = dirty ? "● unsaved" : "";
  document.body.dataset.dirty = dirty ? "yes" : "no";
}

function status(text, kind) {
  const node = $("status");
  node.textContent = text;
  node.className = kind || "";
}

// ---------------------------------------------------------------------------------------------
// evaluate: compile (diagnostics) then apply (events), debounced; late answers are ignored

function schedule() {
  clearTimeout(S.timer);
  document.body.dataset.busy = "yes";
  S.timer = setTimeout(() => { S.timer = null; evaluate(); }, DEBOUNCE_MS);
}

async function evaluate() {
  const seq = ++S.seq;
  const text = view.state.doc.toString();
  const body = $("body").value;
  const path = S.path;
  if (!path) return;
  const started = performance.now();
  let compiled;
  if (text.length > S.meta.max_text) {
    showCompileError(`the mapping is ${sizeText(text.length)}; the playground accepts up to ${sizeText(S.meta.max_text)}`);
    return finish(seq);
  }
  try {
    compiled = await call("compile", { path, text });
  } catch (err) {
    if (seq !== S.seq) return;
    showCompileError(err.message);
    return finish(seq);
  }
  if (seq !== S.seq) return;
  S.lastCompile = compiled;
  setDeclarations(compiled);
  showDiagnostics(compiled);
  const bodyProblem = checkBody(body);
  if (bodyProblem) {
    showOutputError(bodyProblem, "input");
    return finish(seq);
  }
  try {
    const out = await call("apply", { path, text, body, explain: !$("explain-page").hidden });
    if (seq !== S.seq) return;
    showOutput(out);
  } catch (err) {
    if (seq !== S.seq) return;
    showOutputError(err.message, err.data && err.data.line ? "input" : "server");
  }
  $("timing").textContent = `${Math.round(performance.now() - started)} ms`;
  finish(seq);
}

function finish(seq) {
  // busy until the latest text is shown: an answer for an older text, arriving while a newer one
  // waits for its debounce, is shown but does not end it
  if (seq === S.seq && S.timer === null) document.body.dataset.busy = "no";
}

function checkBody(body) {
  if (body.length > S.meta.max_body) {
    return `the body is ${sizeText(body.length)}; the playground accepts up to ${sizeText(S.meta.max_body)} (a Dodo webhook is a few KB)`;
  }
  if (!body.trim()) return "no body: pick a sample event type on the left, paste a webhook body, or drop a .json file";
  let value;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return `the body is not valid JSON: ${err.message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return 'the body must be a JSON object (a Dodo webhook body: {"type": ..., "data": ...})';
  }
  if (typeof value.type === "string" && value.type !== S.eventType) {
    S.eventType = value.type;
    $("event-type").textContent = value.type;
    highlightSample();
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// diagnostics: inline (lint) and as a list with help, docs page and one-click fixes

let runtimeDiagnostic = null;

function applyFix(fix) {
  const { from, to } = rangeOf(view.state.doc, fix);
  view.dispatch({ changes: { from, to, insert: fix.replacement } });
  view.focus();
}

function lintList(compiled) {
  const doc = view.state.doc;
  const items = (compiled ? compiled.diagnostics : []).map((d) => {
    const { from, to } = rangeOf(doc, d);
    return {
      from, to, severity: d.severity === "error" ? "error" : "warning", source: d.code,
      message: `${d.message}${d.help ? `\nhelp: ${d.help}` : ""}\ndocs: ${d.docs}`,
      actions: d.fixes.map((f) => ({ name: f.title, apply: () => applyFix(f) })),
    };
  });
  if (runtimeDiagnostic) items.push(runtimeDiagnostic);
  return items;
}

function showDiagnostics(compiled) {
  runtimeDiagnostic = null;
  view.dispatch(setDiagnostics(view.state, lintList(compiled)));
  const list = $("problems");
  list.replaceChildren();
  const errors = compiled.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = compiled.diagnostics.length - errors;
  $("problem-count").textContent = `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
  $("problem-count").className = errors ? "bad" : warnings ? "warn" : "good";
  for (const d of compiled.diagnostics) {
    list.append(el("li", { class: `diag ${d.severity}`, "data-testid": "diagnostic", "data-code": d.code, "data-line": d.line },
      el("div", { class: "diag-head", onclick: () => jumpTo(d.line, d.column) },
        el("span", { class: "sev" }, `${d.severity}[${d.code}]`), " ", el("span", { class: "msg" }, d.message),
        el("span", { class: "where" }, ` line ${d.line}:${d.column}`)),
      d.help ? el("div", { class: "help" }, `help: ${d.help}`) : null,
      el("div", { class: "docs" }, "docs: ", el("a", { href: `/${d.docs}`, title: d.title, target: "_blank", rel: "noopener" }, d.docs), ` (${d.title})`),
      d.fixes.length ? el("div", { class: "fixes" }, d.fixes.map((f) => el("button", { class: "fix", "data-testid": "fix", onclick: () => applyFix(f) }, `Fix: ${f.title}`))) : null));
  }
  if (compiled.others.length) {
    const files = [...new Set(compiled.others.map((d) => d.path))];
    const errs = compiled.others.filter((d) => d.severity === "error").length;
    // what is wrong there and what to do, not only where: the first few, each as `paymap check` says it
    const shown = compiled.others.slice(0, OTHERS_SHOWN);
    list.append(el("li", { class: "diag note", "data-testid": "others" },
      `${compiled.others.length} problem${compiled.others.length === 1 ? "" : "s"} (${errs} error${errs === 1 ? "" : "s"}) in other files: ${files.join(", ")}`,
      shown.map((d) => el("div", { class: "other" }, `${d.path} line ${d.line}: ${d.message}`,
        d.help ? el("div", { class: "help" }, `help: ${d.help}`) : null)),
      compiled.others.length > shown.length ? el("div", { class: "other" }, `… and ${compiled.others.length - shown.length} more (paymap check lists them all)`) : null));
  }
}

function showCompileError(message) {
  $("problems").replaceChildren(el("li", { class: "diag error", "data-testid": "compile-error" }, message));
  $("problem-count").textContent = "not checked";
  $("problem-count").className = "bad";
  showOutputError("the mapping could not be checked (see the problems under the editor)", "mapping");
}

// ---------------------------------------------------------------------------------------------
// output and explain

function showOutput(out) {
  S.lastOutput = out;
  const box = $("output");
  box.replaceChildren();
  box.dataset.kind = out.kind;
  if (out.kind === "events") {
    box.append(el("div", { class: "verdict good" }, `${out.events.length} Inngest event${out.events.length === 1 ? "" : "s"}`));
    box.append(el("pre", { class: "json", "data-testid": "events" }, JSON.stringify(out.events.length === 1 ? out.events[0] : out.events, null, 2)));
  } else if (out.kind === "dropped") {
    box.append(el("div", { class: "verdict warn", "data-testid": "dropped" }, `dropped by the rule at ${out.dropped_by.join(", ")}: no event is sent`));
  } else if (out.kind === "skipped") {
    box.append(el("div", { class: "verdict warn", "data-testid": "skipped" }, `no rule for this type (${out.event_type}): nothing is sent`),
      el("p", { class: "hint" }, `Add a rule that starts with  on "${out.event_type}"  to map it, or one with  drop  to ignore it on purpose.`));
  } else if (out.kind === "error") {
    const e = out.error;
    box.append(el("div", { class: "verdict bad", "data-testid": "runtime-error" },
      el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); jumpTo(e.line, e.column); } }, `runtime error at ${e.file}:${e.line}:${e.column}`),
      `: ${e.field ? `in \`${e.field}\`: ` : ""}${e.message}`),
      e.hint ? el("p", { class: "hint" }, e.hint) : null);
    if (e.file === S.path && e.line > 0) {
      const { from, to } = rangeOf(view.state.doc, { line: e.line, column: e.column, end_line: e.line, end_column: e.column + 1 });
      runtimeDiagnostic = { from, to, severity: "error", source: "runtime", message: `runtime error: ${e.message}` };
      view.dispatch(setDiagnostics(view.state, lintList(S.lastCompile)));
    }
  } else {
    box.append(el("div", { class: "verdict bad", "data-testid": "not-compiled" }, out.message));
  }
  if (out.left_out) box.append(el("p", { class: "hint" }, `left out (they have errors): ${out.left_out.join(", ")}`));
  showExplain(out);
}

function showOutputError(message, where) {
  const box = $("output");
  box.dataset.kind = `bad-${where}`;
  box.replaceChildren(el("div", { class: "verdict bad", "data-testid": "output-error" }, message));
  $("explain").replaceChildren();
  if (where === "input") status(message, "bad");
}

function value(v, missing) {
  if (missing) return "missing (left out)";
  return JSON.stringify(v);
}

function showExplain(out) {
  const box = $("explain");
  box.replaceChildren();
  if (!out.explained) {
    box.append(el("p", { class: "hint" }, "…"));
    return;
  }
  if (!out.explain || !out.explain.length) {
    box.append(el("p", { class: "hint" }, out.kind === "skipped" ? `no rule receives ${out.event_type}` : "nothing to explain"));
    return;
  }
  for (const ex of out.explain) {
    box.append(el("h3", {}, `${ex.also ? "also " : ""}on ${ex.patterns.map((p) => JSON.stringify(p)).join(", ")} at ${ex.rule} received the body`));
    const rows = ex.steps.map((s) => el("tr", { onclick: () => ex.file === S.path && jumpTo(s.line, 1), "data-testid": "explain-step" },
      el("td", { class: "ln" }, s.line), el("td", { class: "src" }, el("code", {}, s.source)), el("td", { class: "val" }, el("code", {}, value(s.value, s.missing)))));
    box.append(el("table", { class: "explain" }, rows));
    if (ex.error) box.append(el("p", { class: "verdict bad" }, `error: ${ex.error.text}`));
    else if (!ex.event) box.append(el("p", { class: "verdict warn" }, "=> dropped"));
  }
}

// ---------------------------------------------------------------------------------------------
// input: samples, test examples, paste and drop

function highlightSample() {
  for (const li of $("samples").children) li.classList.toggle("current", li.dataset.type === S.eventType);
}

function setBody(text, sample) {
  $("body").value = text;
  S.sample = sample || null;
  checkBody(text);
  status(sample ? `body: the shipped sample of ${sample}` : "body changed", "");
  schedule();
}

async function loadSample(type) {
  try {
    const got = await call("sample", { event_type: type });
    setBody(got.body, type);
  } catch (err) {
    status(err.message, "bad");
  }
}

function renderSamples() {
  const filter = $("sample-filter").value.trim().toLowerCase();
  const list = $("samples");
  list.replaceChildren();
  for (const t of S.meta.samples) {
    if (filter && !t.includes(filter)) continue;
    const cov = S.coverage ? S.coverage.get(t) : null;
    list.append(el("li", { "data-type": t, "data-testid": "sample", class: t === S.eventType ? "current" : "", onclick: () => loadSample(t) },
      t, cov ? el("span", { class: `cov ${cov.status}`, title: cov.status }, cov.status === "mapped" ? "●" : cov.status === "dropped" ? "○" : "·") : null));
  }
}

function renderExamples(info) {
  const select = $("examples");
  select.replaceChildren(el("option", { value: "" }, info.examples.length ? `examples from ${info.file} (${info.examples.length})` : "no test examples for this file"));
  info.examples.forEach((ex, i) => select.append(el("option", { value: String(i) }, ex.name)));
  select.disabled = !info.examples.length;
  S.examples = info.examples;
}

$("examples").addEventListener("change", (e) => {
  const ex = S.examples[Number(e.target.value)];
  if (ex) setBody(JSON.stringify(ex.body, null, 2), null);
});
$("sample-filter").addEventListener("input", renderSamples);
$("body").addEventListener("input", () => { S.sample = null; schedule(); });
const bodyBox = $("body");
// a huge paste never reaches the text box (a browser crawls with 50 MB in it)
bodyBox.addEventListener("paste", (e) => {
  const text = e.clipboardData ? e.clipboardData.getData("text") : "";
  if (text.length > S.meta.max_body) {
    e.preventDefault();
    clearTimeout(S.timer);
    S.timer = null;
    S.seq++;
    showOutputError(`the pasted body is ${sizeText(text.length)}; the playground accepts up to ${sizeText(S.meta.max_body)} (a Dodo webhook is a few KB); nothing was pasted`, "input");
    document.body.dataset.busy = "no";
  }
});
bodyBox.addEventListener("dragover", (e) => { e.preventDefault(); bodyBox.classList.add("drop"); });
bodyBox.addEventListener("dragleave", () => bodyBox.classList.remove("drop"));
bodyBox.addEventListener("drop", async (e) => {
  e.preventDefault();
  bodyBox.classList.remove("drop");
  const file = e.dataTransfer.files[0];
  if (!file) return;
  if (file.size > S.meta.max_body) {
    status(`${file.name} is ${sizeText(file.size)}; the playground accepts bodies up to ${sizeText(S.meta.max_body)}`, "bad");
    return;
  }
  setBody(await file.text(), null);
});

// ---------------------------------------------------------------------------------------------
// files: open, new from a template, save (formatted), save as test

function renderFiles(selected) {
  const select = $("file");
  select.replaceChildren(...S.meta.files.map((f) => el("option", { value: f, selected: f === selected }, f)));
}

async function openFile(path) {
  if (S.path) S.buffers.set(S.path, view.state.doc.toString());
  if (S.saved.get(path) === null && S.buffers.has(path)) { // a new file, not saved yet
    S.path = path;
    setText(S.buffers.get(path));
    renderExamples({ file: null, examples: [] });
    renderFiles(path);
    markDirty();
    return;
  }
  try {
    const got = await call("open", { path });
    S.path = path;
    S.saved.set(path, got.text);
    setText(S.buffers.get(path) ?? got.text);
    renderExamples(got);
    renderFiles(path);
    markDirty();
    status(`opened ${path}`, "");
  } catch (err) {
    status(err.message, "bad");
  }
}

$("file").addEventListener("change", (e) => openFile(e.target.value));

async function save() {
  if (!S.path) return false;
  try {
    const got = await call("save", { path: S.path, text: view.state.doc.toString() });
    S.saved.set(S.path, got.text);
    S.buffers.delete(S.path);
    if (got.text !== view.state.doc.toString()) setText(got.text);
    if (!S.meta.files.includes(S.path)) { S.meta.files.push(S.path); S.meta.files.sort(); renderFiles(S.path); }
    markDirty();
    status(`saved ${S.path}${got.formatted ? " (formatted by paymap fmt)" : ""}`, "good");
    refreshCoverage();
    return true;
  } catch (err) {
    status(err.message, "bad");
    if (err.data && err.data.diagnostics) showDiagnostics(err.data);
    return false;
  }
}
$("save").addEventListener("click", save);

function toggleForm(id) {
  for (const f of document.querySelectorAll("form.inline")) if (f.id !== id) f.hidden = true;
  const form = $(id);
  form.hidden = !form.hidden;
  if (!form.hidden) form.querySelector("input,select").focus();
}

$("new").addEventListener("click", () => {
  const select = $("new-type");
  if (!select.options.length) select.append(...S.meta.known_types.map((t) => el("option", { value: t }, t)));
  if (S.eventType) select.value = S.eventType;
  $("new-path").value = `${(S.eventType || "payment.succeeded").replace(/\./g, "_")}.map`;
  toggleForm("new-form");
});
$("new-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const got = await call("new", { path: $("new-path").value.trim(), event_type: $("new-type").value });
    if (S.path) S.buffers.set(S.path, view.state.doc.toString());
    S.path = got.path;
    S.saved.set(got.path, null);
    if (!S.meta.files.includes(got.path)) { S.meta.files.push(got.path); S.meta.files.sort(); }
    renderFiles(got.path);
    setText(got.text);
    renderExamples({ file: null, examples: [] });
    markDirty();
    $("new-form").hidden = true;
    status(`new file ${got.path}: not saved yet`, "");
    if ($("new-type").value !== S.eventType) loadSample($("new-type").value);
  } catch (err) {
    status(err.message, "bad");
  }
});

$("save-test").addEventListener("click", () => {
  $("test-name").value = S.sample ? `${S.sample} sample` : "my example";
  toggleForm("test-form");
});
$("test-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (S.saved.get(S.path) !== view.state.doc.toString() && !(await save())) return;
  try {
    const got = await call("save_test", { path: S.path, text: view.state.doc.toString(), name: $("test-name").value,
      body: $("body").value, sample: S.sample });
    $("test-form").hidden = true;
    status(`added test "${got.name}" to ${got.file} (${got.status})`, "good");
    const opened = await call("open", { path: S.path });
    renderExamples(opened);
    refreshCoverage();
  } catch (err) {
    status(err.message, "bad");
  }
});

// ---------------------------------------------------------------------------------------------
// copy for the dashboard: what `paymap export PATH --target dodo [--on PATTERN]` writes, with the
// editor's unsaved text in place of its file (docs/dashboard.md)

$("export-slot").append(el("button", { id: "export", type: "button", "data-testid": "export",
  title: "the JavaScript to paste into Dodo's dashboard (paymap export --target dodo), copied to the clipboard" },
"Copy for the dashboard"));
$("test-form").after(el("form", { id: "export-form", class: "inline", hidden: true, "data-testid": "export-panel" },
  el("label", { for: "export-on" }, "Export "), el("select", { id: "export-on", "data-testid": "export-on" }),
  " ", el("span", { id: "export-size", "data-testid": "export-size" }),
  " ", el("button", { type: "button", id: "export-copy" }, "Copy again"),
  " ", el("button", { type: "button" }, "Close"),
  el("div", { id: "export-copied", "data-testid": "export-copied" }),
  el("ul", { id: "export-problems", "data-testid": "export-problems" }),
  el("textarea", { id: "export-code", "data-testid": "export-code", readonly: true, rows: 8, spellcheck: "false",
    placeholder: "the exported code appears here", onfocus: (e) => e.target.select() })));

function currentRule() {
  const line = view.state.doc.lineAt(view.state.selection.main.head).number;
  let found = S.rules[0] || null;
  for (const r of S.rules) if (r.line <= line) found = r;
  return found;
}

function renderExportChoices() {
  const select = $("export-on");
  const keep = select.value;
  const rule = currentRule();
  const options = [el("option", { value: "" }, "every event type (all files, as paymap export)")];
  for (const p of rule ? rule.patterns : []) {
    options.push(el("option", { value: p }, `only ${p} (--on "${p}": the rule at line ${rule.line})`));
  }
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function exportProblem(d) {
  return el("li", { class: `diag ${d.severity}`, "data-testid": "export-problem", "data-code": d.code },
    el("span", { class: "sev" }, `${d.severity}[${d.code}]`), " ", el("span", { class: "msg" }, d.message),
    el("span", { class: "where" }, ` ${d.path}:${d.line}`), d.help ? el("div", { class: "help" }, `help: ${d.help}`) : null);
}

async function runExport() {
  const form = $("export-form");
  const size = $("export-size");
  const code = $("export-code");
  const on = $("export-on").value;
  form.dataset.state = "busy";
  size.textContent = "exporting…";
  size.className = "muted";
  $("export-copied").textContent = "";
  $("export-problems").replaceChildren();
  code.value = "";
  let got;
  try {
    got = await call("export", on ? { path: S.path, text: view.state.doc.toString(), on } : { path: S.path, text: view.state.doc.toString() });
  } catch (err) {
    size.textContent = `not exported: ${err.message}`;
    size.className = "bad";
    form.dataset.state = "failed";
    return null;
  }
  $("export-problems").replaceChildren(...got.diagnostics.map(exportProblem));
  if (got.code == null) {
    const errors = got.diagnostics.filter((d) => d.severity === "error").length;
    size.textContent = `not exported: ${errors} error${errors === 1 ? "" : "s"} (below)`;
    size.className = "bad";
    form.dataset.state = "refused";
    return null;
  }
  const share = Math.round((100 * got.size) / got.limit);
  size.textContent = `${got.size.toLocaleString("en")} of ${got.limit.toLocaleString("en")} characters (${share}% of Svix's limit)`
    + (on ? ` for ${on}` : "");
  size.className = share > 90 ? "warn" : "good";
  code.value = got.code;
  form.dataset.state = "exported";
  return got;
}

async function copyExport() {
  const code = $("export-code");
  const note = $("export-copied");
  if (!code.value) return;
  try {
    if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error("no clipboard here");
    await navigator.clipboard.writeText(code.value);
    note.textContent = "Copied. In Dodo's dashboard: your endpoint → Transformation → Edit, replace everything, Save.";
    note.className = "good";
    $("export-form").dataset.copied = "yes";
  } catch (err) {
    note.textContent = "The browser did not let the page copy: the code below is selected, press Ctrl+C (⌘C) to copy it.";
    note.className = "warn";
    $("export-form").dataset.copied = "no";
    code.focus();
    code.select();
  }
}

$("export").addEventListener("click", async () => {
  if (!S.path) return;
  for (const f of document.querySelectorAll("form.inline")) f.hidden = f.id !== "export-form";
  $("export-form").hidden = false;
  renderExportChoices();
  if (await runExport()) await copyExport();
});
$("export-on").addEventListener("change", async () => { if (await runExport()) await copyExport(); });
$("export-copy").addEventListener("click", copyExport);
$("export-form").addEventListener("submit", (e) => e.preventDefault());

for (const b of document.querySelectorAll("form.inline button[type=button]:not([id])")) { // Cancel, Close
  b.addEventListener("click", () => { b.closest("form").hidden = true; });
}

// ---------------------------------------------------------------------------------------------
// tabs and coverage

for (const tab of document.querySelectorAll(".tabs button")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tabs button")) t.classList.toggle("active", t === tab);
    for (const p of document.querySelectorAll(".tab-page")) p.hidden = p.id !== tab.dataset.page;
    if (tab.dataset.page === "explain-page" && S.lastOutput && !S.lastOutput.explained) schedule();
  });
}

async function refreshCoverage() {
  try {
    const got = await call("coverage", {});
    S.coverage = new Map(got.types.map((r) => [r.type, r]));
    const mapped = got.types.filter((r) => r.status === "mapped").length;
    const dropped = got.types.filter((r) => r.status === "dropped").length;
    const tested = got.types.filter((r) => r.tested).length;
    $("coverage-summary").textContent = `${mapped} of ${got.types.length} mapped, ${dropped} dropped on purpose, ${tested} with tests`;
    const rows = got.types.map((r) => el("tr", { "data-testid": "coverage-row", "data-type": r.type, "data-status": r.status, onclick: () => loadSample(r.type) },
      el("td", {}, r.type), el("td", { class: `cov ${r.status}` }, r.status === "unmapped" ? "not mapped" : r.status),
      el("td", { class: r.tested ? "good" : "muted" }, r.tested ? "tested" : "no test"), el("td", { class: "muted" }, r.rules.join(", "))));
    $("coverage").replaceChildren(el("table", { class: "coverage" }, el("tr", {}, el("th", {}, "event type"), el("th", {}, "mapping"), el("th", {}, "tests"), el("th", {}, "rule")), rows));
    renderSamples();
  } catch (err) {
    $("coverage").replaceChildren(el("p", { class: "bad" }, err.message));
  }
}

// ---------------------------------------------------------------------------------------------
// start

async function start() {
  try {
    S.meta = await call("meta", {});
  } catch (err) {
    status(err.message, "bad");
    return;
  }
  for (const b of S.meta.builtins) S.builtins.set(b.name, b);
  $("root").textContent = S.meta.root;
  renderSamples();
  const first = S.meta.files.includes("payment.map") ? "payment.map" : S.meta.files[0];
  if (first) await openFile(first);
  else {  // an empty directory: say where to start, beside the form that does it
    $("new").click();
    $("output").replaceChildren(el("div", { class: "hint", "data-testid": "output-hint" },
      "No mapping here yet: pick the event type in the form above and press Create. The Inngest event it makes shows here as you type."));
  }
  const handed = takeWebhook(); // "Open in playground" from the relay's console
  if (handed !== null) setBody(handed, null);
  else await loadSample(S.meta.samples.includes("payment.succeeded") ? "payment.succeeded" : S.meta.samples[0]);
  refreshCoverage();
  document.body.dataset.ready = "yes";
}

start();
