// Highlighting of the .map language (grammar/mapping.lark) for CodeMirror 6: a small stream tokenizer.
// Only colours: every check is the server's (the real compiler), never a second one here.
import { StreamLanguage } from "@codemirror/language";

const KEYWORDS = new Set(["on", "also", "drop", "let", "if", "then", "else", "match", "input", "and", "or", "not",
  "const", "group", "defaults", "use"]);

// The constants the files under PATH declare (from the server's last compile), so that reading one
// is coloured as a constant rather than as a field of the body.
const CONSTANTS = new Set();
export function setConstants(names) {
  CONSTANTS.clear();
  for (const name of names) CONSTANTS.add(name);
}
const ATOMS = new Set(["true", "false", "null"]);

export const mapLanguage = StreamLanguage.define({
  name: "paymap",
  startState: () => ({ left: true, after: null, use: false }),
  token(stream, state) {
    if (stream.sol()) {
      state.left = true;
      state.after = null;
      state.use = false;
    }
    if (stream.eatSpace()) return null;
    if (stream.peek() === "#") {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.peek() === '"') {
      stream.next();
      let escaped = false;
      let ch;
      while ((ch = stream.next()) != null) {
        if (ch === '"' && !escaped) break;
        escaped = !escaped && ch === "\\";
      }
      return "string";
    }
    if (stream.match(/^-?\d+(\.\d+)?([eE][-+]?\d+)?/)) return "number";
    if (stream.match(/^(\?\?|->|==|!=|<=|>=|&|=|<|>|\+|-|\*|\/|%)/)) {
      if (stream.current() === "=") state.left = false;
      return "operator";
    }
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (word) {
      const text = word[0];
      const after = state.after;
      state.after = null;
      if (after === "const") return "variableName.definition"; // const NAME = ...
      if (after === "group") return "labelName.definition"; // group NAME
      if (state.use) return "labelName"; // use NAME, NAME
      if (KEYWORDS.has(text)) {
        if (text === "const" || text === "group") state.after = text;
        if (text === "use") state.use = true;
        return "keyword";
      }
      if (ATOMS.has(text)) return "atom";
      if (stream.peek() === "(") return "variableName.function";
      if (CONSTANTS.has(text) && stream.peek() !== ".") return "variableName.special";
      if (state.left) {
        // the Inngest field being set: `data.amount = ...`
        stream.match(/^(\.[A-Za-z_][A-Za-z0-9_]*)*/);
        return "propertyName.definition";
      }
      stream.match(/^(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\[\*\])*/);
      return "variableName";
    }
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { line: "#" }, closeBrackets: { brackets: ["(", "[", "{", '"'] } },
});
