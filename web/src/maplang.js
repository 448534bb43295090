// Highlighting of the .map language (grammar/mapping.lark) for CodeMirror 6: a small stream tokenizer.
// Only colours: every check is the server's (the real compiler), never a second one here.
import { StreamLanguage } from "@codemirror/language";

const KEYWORDS = new Set(["on", "also", "drop", "let", "if", "then", "else", "match", "input", "and", "or", "not"]);
const ATOMS = new Set(["true", "false", "null"]);

export const mapLanguage = StreamLanguage.define({
  name: "paymap",
  startState: () => ({ left: true }),
  token(stream, state) {
    if (stream.sol()) state.left = true;
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
      if (KEYWORDS.has(text)) return "keyword";
      if (ATOMS.has(text)) return "atom";
      if (stream.peek() === "(") return "variableName.function";
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
