// The JavaScript runtime of exported mappings (dsl/jsgen.py): the semantics of prelude/values.py and
// prelude/functions.py in ES5, for engines that are not documented (Svix/Dodo, Inngest).
//
// Each block starts with a line `//# NAME`; jsgen copies only the blocks a mapping uses, plus the
// blocks their code names (found by scanning for `_identifiers`). Inside a block, lines starting
// with `//` are comments and are left out of the exported code.
//
// Values: missing is `undefined`, null is `null`; integers are JS numbers while they are safe
// (|n| < 2^53) and exact decimals `_D` (`i` set) beyond; decimals are `_D` objects: sign `n`,
// coefficient digit string `c`, exponent `e`, as Python's Decimal with a 34-digit context.
// No binary floating point touches money; no BigInt (ES2020), no Date parsing.

//# _fail
function _fail(m) { throw new Error(m); }

//# _own
function _own(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

//# _isobj
function _isobj(v) { return typeof v === "object" && v !== null && !(v instanceof Array) && !(v instanceof _D); }

//# _kind
function _kind(v) {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return v % 1 === 0 ? "integer" : "decimal";
  if (v instanceof _D) return v.i ? "integer" : "decimal";
  if (typeof v === "string") return "string";
  return v instanceof Array ? "list" : "object";
}

//# _show
function _show(v) {
  if (v === undefined) return "missing";
  var t = v instanceof _D ? _dstr(v) : JSON.stringify(v);
  if (t.length > 60) t = t.slice(0, 57) + "...";
  return _kind(v) + " " + t;
}

//# _D
function _D(n, c, e, i) {
  // a decimal: (-1)^n * c * 10^e; `i`: an integer beyond 2^53 (a Python int)
  var k = 0;
  while (k < c.length - 1 && c.charAt(k) === "0") k++;
  this.n = n; this.c = c.slice(k); this.e = e; this.i = !!i;
}

//# _zeros
function _zeros(k) { var s = ""; while (k-- > 0) s += "0"; return s; }

//# _ucmp
function _ucmp(a, b) {
  // unsigned digit strings without leading zeros
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

//# _uadd
function _uadd(a, b) {
  var out = "", carry = 0, i = a.length - 1, j = b.length - 1;
  while (i >= 0 || j >= 0 || carry) {
    var s = carry + (i >= 0 ? a.charCodeAt(i--) - 48 : 0) + (j >= 0 ? b.charCodeAt(j--) - 48 : 0);
    out = (s % 10) + out;
    carry = s >= 10 ? 1 : 0;
  }
  return _strip0(out);
}

//# _strip0
function _strip0(s) { var k = 0; while (k < s.length - 1 && s.charAt(k) === "0") k++; return s.slice(k); }

//# _usub
function _usub(a, b) {
  // a >= b
  var out = "", borrow = 0, i = a.length - 1, j = b.length - 1;
  while (i >= 0) {
    var s = a.charCodeAt(i--) - 48 - borrow - (j >= 0 ? b.charCodeAt(j--) - 48 : 0);
    borrow = s < 0 ? 1 : 0;
    out = (s + 10 * borrow) + out;
  }
  return _strip0(out);
}

//# _umul
function _umul(a, b) {
  var r = [], i, j;
  for (i = 0; i < a.length + b.length; i++) r.push(0);
  for (i = a.length - 1; i >= 0; i--) {
    var x = a.charCodeAt(i) - 48, carry = 0;
    for (j = b.length - 1; j >= 0; j--) {
      var s = r[i + j + 1] + x * (b.charCodeAt(j) - 48) + carry;
      r[i + j + 1] = s % 10;
      carry = (s - s % 10) / 10;
    }
    r[i] += carry;
  }
  return _strip0(r.join(""));
}

//# _udivmod
function _udivmod(a, b) {
  // [quotient, remainder] of unsigned digit strings, b not "0"
  var q = "", r = "0";
  for (var i = 0; i < a.length; i++) {
    r = _strip0(r + a.charAt(i));
    var d = 0;
    while (_ucmp(r, b) >= 0) { r = _usub(r, b); d++; }
    q += d;
  }
  return [_strip0(q), r];
}

//# _dparse
function _dparse(s) {
  // a decimal from numeric text (sign, digits, point, exponent), or null
  var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === "" && (m[3] || "") === "")) return null;
  var f = m[3] || "";
  return new _D(m[1] === "-", m[2] + f || "0", (m[4] ? parseInt(m[4], 10) : 0) - f.length);
}

//# _toD
function _toD(v) {
  // a number (JS or _D) as a decimal; integers keep exponent 0, as Decimal(int) does
  if (v instanceof _D) return v;
  return _dparse(String(_n53(v)));
}

//# _n53
function _n53(v) {
  // a number from the body: an integer beyond 2^53 was rounded by JSON.parse, so it fails here
  if (typeof v === "number" && v % 1 === 0 && !_safe(v)) _big(v);
  return v;
}

//# _isint
function _isint(v) { return (typeof v === "number" && v % 1 === 0) || (v instanceof _D && v.i); }

//# _isnum
function _isnum(v) { return typeof v === "number" || v instanceof _D; }

//# _safe
function _safe(x) { return x <= 9007199254740991 && x >= -9007199254740991; }

//# _inorm
function _inorm(d) {
  // an exact integer result: a JS number when it is safe, else an integer _D
  if (d.c.length < 16) { var x = Number(d.c); return d.n && x !== 0 ? -x : x; }
  return new _D(d.n && d.c !== "0", d.c, 0, true);
}

//# _round34
function _round34(d, sticky) {
  // round to 34 significant digits, half-even (Python's Context(prec=34)); `sticky`: more nonzero digits follow
  var c = d.c, e = d.e;
  if (c.length <= 34) return d;
  var keep = c.slice(0, 34), rest = c.slice(34), up;
  e += rest.length;
  var first = rest.charCodeAt(0) - 48, more = sticky || /[1-9]/.test(rest.slice(1));
  if (first > 5 || (first === 5 && more)) up = true;
  else if (first === 5) up = (keep.charCodeAt(33) - 48) % 2 === 1;
  else up = false;
  if (up) {
    keep = _uadd(keep, "1");
    if (keep.length > 34) { keep = keep.slice(0, 34); e += 1; }
  }
  return new _D(d.n, keep, e);
}

//# _dalign
function _dalign(x, y) {
  var e = Math.min(x.e, y.e);
  return [x.c === "0" ? "0" : x.c + _zeros(x.e - e), y.c === "0" ? "0" : y.c + _zeros(y.e - e), e];
}

//# _dadd
function _dadd(x, y, exact) {
  // x + y; `exact`: integer arithmetic without the 34-digit context
  var a = _dalign(x, y), r;
  if (x.n === y.n) r = new _D(x.n, _uadd(a[0], a[1]), a[2]);
  else {
    var k = _ucmp(a[0], a[1]);
    if (k === 0) r = new _D(false, "0", a[2]);
    else if (k > 0) r = new _D(x.n, _usub(a[0], a[1]), a[2]);
    else r = new _D(y.n, _usub(a[1], a[0]), a[2]);
  }
  return exact ? r : _round34(r);
}

//# _dneg
function _dneg(x) { return new _D(x.c === "0" ? false : !x.n, x.c, x.e, x.i); }

//# _dmul
function _dmul(x, y, exact) {
  var r = new _D(x.n !== y.n, _umul(x.c, y.c), x.e + y.e);
  return exact ? r : _round34(r);
}

//# _ddiv
function _ddiv(x, y) {
  // x / y in the 34-digit context, then normalized (trailing zeros removed), as runtime.functions.div
  var n = x.n !== y.n;
  if (x.c === "0") return new _D(n, "0", 0);
  var k = Math.max(0, 36 + y.c.length - x.c.length);
  var qr = _udivmod(x.c + _zeros(k), y.c);
  var d = _round34(new _D(n, qr[0], x.e - y.e - k), qr[1] !== "0");
  var c = d.c, e = d.e;
  while (c.length > 1 && c.charAt(c.length - 1) === "0") { c = c.slice(0, -1); e++; }
  return new _D(n, c, e);
}

//# _dmod
function _dmod(x, y) {
  // Decimal remainder: the sign of the dividend
  var a = _dalign(x, y);
  return new _D(x.n, _udivmod(a[0], a[1])[1], a[2]);
}

//# _dcmp
function _dcmp(x, y) {
  var xz = x.c === "0", yz = y.c === "0";
  if (xz && yz) return 0;
  var xs = xz ? 0 : x.n ? -1 : 1, ys = yz ? 0 : y.n ? -1 : 1;
  if (xs !== ys) return xs < ys ? -1 : 1;
  var a = _dalign(x, y), k = _ucmp(a[0], a[1]);
  return xs < 0 ? -k : k;
}

//# _dstr
function _dstr(d) {
  // format(d, "f")
  var s = d.n ? "-" : "";
  if (d.e >= 0) return s + (d.c === "0" ? "0" : d.c + _zeros(d.e));
  var c = d.c, k = -d.e;
  while (c.length <= k) c = "0" + c;
  return s + c.slice(0, c.length - k) + "." + c.slice(c.length - k);
}

//# _dintstr
function _dintstr(d) {
  // the integer digits (with sign) of an integral decimal, or null when it has a fraction
  if (d.e >= 0) return d.c === "0" ? "0" : (d.n ? "-" : "") + d.c + _zeros(d.e);
  var k = -d.e, c = d.c;
  while (c.length <= k) c = "0" + c;
  if (/[1-9]/.test(c.slice(c.length - k))) return null;
  var w = _strip0(c.slice(0, c.length - k));
  return w === "0" ? "0" : (d.n ? "-" : "") + w;
}

//# _big
function _big(x) {
  _fail("the integer " + String(x) + " is beyond 2^53: a JavaScript number cannot hold it exactly " +
        "(in a webhook body, JSON.parse has already rounded it)");
}

//# _j
function _j(v) {
  // to_json_value: decimals to exact JSON numbers, missing list items left out
  var i, out, k;
  if (typeof v === "number") { if (v % 1 === 0 && !_safe(v)) _big(v); return v; }
  if (v instanceof _D) {
    var w = _dintstr(v);
    if (w !== null) { var x = Number(w); if (!_safe(x)) _big(w); return x; }
    var f = Number(_dstr(v));
    if (_dcmp(_toD(f), v) !== 0)
      _fail("decimal " + _dstr(v) + " cannot be written as an exact JSON number; round it first, e.g. `round(x, 2)`, or convert it with `string(x)`");
    return f;
  }
  if (v instanceof Array) {
    out = [];
    for (i = 0; i < v.length; i++) if (v[i] !== undefined) out.push(_j(v[i]));
    return out;
  }
  if (_isobj(v)) {
    out = {};
    for (k in v) if (_own(v, k) && v[k] !== undefined) _put(out, k, _j(v[k]));
    return out;
  }
  return v;
}

//# _put
function _put(o, k, v) {
  if (k === "__proto__") Object.defineProperty(o, k, {value: v, writable: true, enumerable: true, configurable: true});
  else o[k] = v;
  return v;
}

//# _get
function _get(o, k) {
  if (_isobj(o)) return _own(o, k) ? o[k] : undefined;
  if (o === undefined || o === null) return undefined;
  return _fail("cannot read field `" + k + "` of " + _show(o) + "; it is not an object");
}

//# _idx
function _idx(o, i) {
  if (o instanceof Array) { var k = i < 0 ? o.length + i : i; return k >= 0 && k < o.length ? o[k] : undefined; }
  if (o === undefined || o === null) return undefined;
  return _fail("cannot take item [" + i + "] of " + _show(o) + "; it is not a list");
}

//# _proj
function _proj(o) {
  if (o instanceof Array || o === undefined) return o;
  if (o === null) return undefined;
  return _fail("`[*]` expected a list, got " + _show(o));
}

//# _larg
function _larg(o, fn) {
  if (o instanceof Array || o === undefined || o === null) return o;
  return _fail(fn + "() expected a list, got " + _show(o));
}

//# _truth
function _truth(v, where) {
  if (v === true || v === false) return v;
  return _fail(where + " must be true or false, got " + _show(v) +
               "; compare it explicitly, e.g. `x == \"paid\"`, or give a default with `??`");
}

//# _absent
function _absent(a, b) { return a === undefined || b === undefined ? undefined : null; }

//# _num
function _num(v, op, side) {
  if (_isnum(v)) return _n53(v);
  return _fail("`" + op + "` expected numbers, but its " + side + " side is " + _show(v));
}

//# _arith
function _arith(op, a, b) {
  // + - * / % with Python's results: integers stay exact integers, everything else exact decimals
  if (a === undefined || b === undefined || a === null || b === null) return _absent(a, b);
  var x = _num(a, op, "left"), y = _num(b, op, "right"), r;
  if (_isint(x) && _isint(y) && op !== "/") {
    if (typeof x === "number" && typeof y === "number" && op !== "%") {
      r = op === "+" ? x + y : op === "-" ? x - y : x * y;
      if (_safe(r)) return r === 0 ? 0 : r;
    }
    var dx = _toD(x), dy = _toD(y);
    if (op === "+") return _inorm(_dadd(dx, dy, true));
    if (op === "-") return _inorm(_dadd(dx, _dneg(dy), true));
    if (op === "*") return _inorm(_dmul(dx, dy, true));
    if (dy.c === "0") _fail("division by zero in `%`");
    var m = _dmod(dx, dy);  // Python ints: the sign of the divisor
    if (m.c !== "0" && m.n !== dy.n) m = _dadd(m, dy, true);
    return _inorm(m);
  }
  x = _toD(x); y = _toD(y);
  if (op === "+") return _dadd(x, y);
  if (op === "-") return _dadd(x, _dneg(y));
  if (op === "*") return _dmul(x, y);
  if (y.c === "0") _fail(op === "/" ? "division by zero" : "division by zero in `%`");
  return op === "/" ? _ddiv(x, y) : _dmod(x, y);
}

//# _neg
function _neg(a) {
  if (a === undefined || a === null) return a;
  var x = _num(a, "-", "right");
  if (typeof x === "number" && x % 1 === 0) return x === 0 ? 0 : -x;
  return _dneg(_toD(x));
}

//# _concat
function _concat(a, b) {
  if (a === undefined || b === undefined || a === null || b === null) return _absent(a, b);
  if (typeof a !== "string" || typeof b !== "string")
    _fail("`&` joins text, but one side is " + _show(typeof a !== "string" ? a : b) + "; convert it with `string(...)`");
  return a + b;
}

//# _eq
function _eq(a, b) {
  // no coercion: 1 == "1" is false, true == 1 is false; missing equals null
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  var i, k;
  if (typeof a === "boolean" || typeof b === "boolean") return a === b;
  if (_isnum(a) && _isnum(b)) return typeof a === "number" && typeof b === "number" ? _n53(a) === _n53(b) : _dcmp(_toD(a), _toD(b)) === 0;
  if (typeof a === "string" || typeof b === "string" || a === null || b === null) return a === b;
  if (a instanceof Array || b instanceof Array) {
    if (!(a instanceof Array && b instanceof Array) || a.length !== b.length) return false;
    for (i = 0; i < a.length; i++) if (!_eq(a[i], b[i])) return false;
    return true;
  }
  if (!_isobj(a) || !_isobj(b)) return false;
  for (k in a) if (_own(a, k) && !(_own(b, k) && _eq(a[k], b[k]))) return false;
  for (k in b) if (_own(b, k) && !_own(a, k)) return false;
  return true;
}

//# _scmp
function _scmp(a, b) {
  // strings in code point order (Python's), not UTF-16 order
  var n = Math.min(a.length, b.length);
  for (var i = 0; i < n; i++) {
    var x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      x += x >= 0xE000 ? -0x800 : x >= 0xD800 ? 0x2000 : 0;
      y += y >= 0xE000 ? -0x800 : y >= 0xD800 ? 0x2000 : 0;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

//# _cmp
function _cmp(op, a, b) {
  // < <= > >=: numbers with numbers, text with text
  var k;
  if (_isnum(a) && _isnum(b)) k = typeof a === "number" && typeof b === "number" ? (_n53(a) < _n53(b) ? -1 : a > b ? 1 : 0) : _dcmp(_toD(a), _toD(b));
  else if (typeof a === "string" && typeof b === "string") k = _scmp(a, b);
  else _fail("`" + op + "` cannot compare " + _show(a) + " with " + _show(b));
  return op === "<" ? k < 0 : op === "<=" ? k <= 0 : op === ">" ? k > 0 : k >= 0;
}

//# _WS
// Python's str.strip() white space (str.isspace), not JavaScript's trim()
var _WS = "\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

//# _strip
function _strip(s) {
  var i = 0, j = s.length;
  while (i < j && _WS.indexOf(s.charAt(i)) >= 0) i++;
  while (j > i && _WS.indexOf(s.charAt(j - 1)) >= 0) j--;
  return s.slice(i, j);
}

//# _cps
function _cps(s) {
  // the code points of a string, each as a string (Python's list(s))
  var out = [];
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.length) {
      var d = s.charCodeAt(i + 1);
      if (d >= 0xDC00 && d < 0xE000) { out.push(s.slice(i, i + 2)); i++; continue; }
    }
    out.push(s.charAt(i));
  }
  return out;
}

//# _str
function _str(v, what) {
  if (typeof v === "string") return v;
  return _fail(what + " expected a string, got " + _show(v) + "; convert it with `string(...)` first");
}

//# _todec
function _todec(v, what) {
  // to_decimal: numbers, or ASCII numeric text
  if (_isnum(v)) return _toD(v);
  if (typeof v === "string") {
    var d = /^[\x00-\x7f]*$/.test(v) ? _dparse(_strip(v)) : null;
    if (d) return d;
  }
  return _fail(what + " expected a number, got " + _show(v) + (typeof v === "string" ? "; the text is not a decimal number" : ""));
}

//# _integral
function _integral(v, what) {
  // a whole number of minor units as [negative, digit string]: exact for any length of text
  if (typeof v === "number" && v % 1 === 0) { if (!_safe(v)) _big(v); return [v < 0, String(Math.abs(v))]; }
  var w = _dintstr(_todec(v, what));
  if (w === null) _fail(what + " expected a whole number of minor units, got " + _show(v) +
                        "; amounts from Dodo are integers in the currency's smallest unit");
  return w.charAt(0) === "-" ? [true, w.slice(1)] : [false, w];
}

//# _exp
function _exp(code, what) {
  // ISO 4217 minor-unit exponents (from the iso4217 package, as the Python runtime): "2|AED|AFN|…| 0|BIF|…|"
  if (typeof code !== "string") _fail(what + " expected a currency code string, got " + _show(code));
  var g = "/*EXPONENTS*/".split(" "), c = /^[A-Z]{3}$/.test(code) ? code : code.toUpperCase();
  if (/^[A-Z]{3}$/.test(c)) for (var i = 0; i < g.length; i++) if (g[i].indexOf("|" + c + "|") > 0) return +g[i].charAt(0);
  return _fail("unknown currency code " + JSON.stringify(code) + "; use an ISO 4217 code such as \"USD\", \"JPY\" or \"KWD\"");
}

//# _minor
function _minor(u, exponent) {
  // [negative, digits] of minor units → the decimal string with `exponent` decimals
  var s = u[1], sign = u[0] && s !== "0" ? "-" : "";
  if (exponent === 0) return sign + s;
  while (s.length <= exponent) s = "0" + s;
  return sign + s.slice(0, s.length - exponent) + "." + s.slice(s.length - exponent);
}

//# _f_money
function _f_money(amount, currency) {
  if (typeof currency !== "string") _fail("money() expected a currency code string, got " + _show(currency));
  return _minor(_integral(amount, "money()"), _exp(currency, "money()"));
}

//# _f_decimals
function _f_decimals(currency) { return _exp(currency, "decimals()"); }

//# _quant
function _quant(d, e, mode) {
  // Decimal.quantize(10^e, rounding=mode)
  if (d.e >= e) return new _D(d.n, d.c === "0" ? "0" : d.c + _zeros(d.e - e), e);
  var k = e - d.e, c = d.c;
  while (c.length <= k) c = "0" + c;
  var keep = c.slice(0, c.length - k), rest = c.slice(c.length - k);
  var nz = /[1-9]/.test(rest), half = "5" + _zeros(k - 1), h = rest > half ? 1 : rest === half ? 0 : -1, up;
  if (mode === "down") up = false;
  else if (mode === "up") up = nz;
  else if (mode === "ceiling") up = nz && !d.n;
  else if (mode === "floor") up = nz && d.n;
  else if (mode === "half_up") up = h >= 0;
  else if (mode === "half_down") up = h > 0;
  else up = h > 0 || (h === 0 && (keep.charCodeAt(keep.length - 1) - 48) % 2 === 1);
  return new _D(d.n, up ? _uadd(keep, "1") : keep, e);
}

//# _f_cents
function _f_cents(amount) {
  if (typeof amount === "string" && /^[0-9]+$/.test(amount)) return _minor([false, _strip0(amount)], 2);
  if (typeof amount === "number" && amount % 1 === 0) return _minor(_integral(amount, "cents()"), 2);
  var d = _todec(amount, "cents()"), q = _quant(new _D(d.n, d.c, d.e - 2), -2, "half_up");
  if (d.c === "0") q = new _D(false, q.c, q.e);
  return _dstr(q);
}

//# _f_round
function _f_round(v, places, mode) {
  var d = _todec(v, "round()");
  if (places === undefined) places = 0;
  if (mode === undefined) mode = "half_up";
  if (typeof places !== "number" || places % 1 !== 0 || places < -18 || places > 18)
    _fail("round() expected a whole number of places between -18 and 18, got " + _show(places));
  return _quant(d, -places, mode);
}

//# _f_int
function _f_int(v) {
  if (typeof v === "number" && v % 1 === 0) return v;
  if (v instanceof _D && v.i) return v;
  if (typeof v === "boolean") _fail("int() expected a number or numeric text, got " + _show(v) + "; use `if b then 1 else 0`");
  var w = _dintstr(_todec(v, "int()"));
  if (w === null) _fail("int() got " + _show(v) + ", which is not a whole number; use `round(x)` (or `round(x, 0, \"down\")` to truncate) first");
  return _inorm(_dparse(w));
}

//# _f_decimal
function _f_decimal(v) {
  if (typeof v === "boolean") _fail("decimal() expected a number or numeric text, got " + _show(v));
  var d = _todec(v, "decimal()");
  return new _D(d.n, d.c, d.e);
}

//# _pyfloat
function _pyfloat(f) {
  // Python's repr() of a float, from the shortest round-trip digits
  var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(f.toExponential()), x = Number(m[4]);
  var digits = m[2] + (m[3] || ""), s;
  if (x < -4 || x >= 16) {
    s = m[2] + (m[3] ? "." + m[3] : "") + "e" + (x < 0 ? "-" : "+") + (Math.abs(x) < 10 ? "0" : "") + Math.abs(x);
  } else if (x < 0) {
    s = "0." + _zeros(-x - 1) + digits;
  } else {
    s = digits.length > x + 1 ? digits.slice(0, x + 1) + "." + digits.slice(x + 1) : digits + _zeros(x + 1 - digits.length) + ".0";
  }
  return m[1] + s;
}

//# _pyjson
function _pyjson(v) {
  // json.dumps(v, ensure_ascii=False, separators=(",", ":")) with decimals as floats
  var i, k, parts = [];
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return v % 1 === 0 ? String(_n53(v)) : _pyfloat(v);
  if (v instanceof _D) return v.i ? _dstr(v) : _pyfloat(Number(_dstr(v)));
  if (typeof v !== "object") return JSON.stringify(v);
  if (v instanceof Array) {
    for (i = 0; i < v.length; i++) parts.push(_pyjson(v[i]));
    return "[" + parts.join(",") + "]";
  }
  for (k in v) if (_own(v, k)) parts.push(JSON.stringify(k) + ":" + _pyjson(v[k]));
  return "{" + parts.join(",") + "}";
}

//# _f_string
function _f_string(v) {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number" && v % 1 === 0) return String(_n53(v));
  if (v instanceof _D && v.i) return _dstr(v);
  if (_isnum(v)) return _dstr(_toD(v));
  return _pyjson(v);
}

//# _f_sum
function _f_sum(items) {
  if (!(items instanceof Array)) _fail("sum() expected a list of numbers, got " + _show(items));
  var total = 0;
  for (var i = 0; i < items.length; i++) if (items[i] !== undefined && items[i] !== null) total = _arith("+", total, items[i]);
  return total;
}

//# _f_lower
function _f_lower(s) { return _str(s, "lower()").toLowerCase(); }

//# _f_upper
function _f_upper(s) { return _str(s, "upper()").toUpperCase(); }

//# _f_trim
function _f_trim(s) { return _strip(_str(s, "trim()")); }

//# _f_replace
function _f_replace(s, a, b) {
  var t = _str(s, "replace()"), old = _str(a, "replace()"), nw = _str(b, "replace()");
  if (old === "") return nw + _cps(t).join(nw) + (t === "" ? "" : nw);
  return t.split(old).join(nw);
}

//# _f_split
function _f_split(s, sep) {
  var t = _str(s, "split()"), p = _str(sep, "split()");
  return p === "" ? _cps(t) : t.split(p);
}

//# _f_join
function _f_join(items, sep) {
  if (!(items instanceof Array)) _fail("join() expected a list, got " + _show(items));
  var p = _str(sep, "join()"), parts = [];
  for (var i = 0; i < items.length; i++) {
    if (items[i] === undefined) continue;
    if (typeof items[i] !== "string")
      _fail("join() expected a list of strings, but it holds " + _show(items[i]) + "; convert the items with `map(list, x -> string(x))`");
    parts.push(items[i]);
  }
  return parts.join(p);
}

//# _f_starts_with
function _f_starts_with(s, p) { var t = _str(s, "starts_with()"), q = _str(p, "starts_with()"); return t.slice(0, q.length) === q; }

//# _f_ends_with
function _f_ends_with(s, p) {
  var t = _str(s, "ends_with()"), q = _str(p, "ends_with()");
  return q.length <= t.length && t.slice(t.length - q.length) === q;
}

//# _f_contains
function _f_contains(c, item) {
  if (typeof c === "string") return c.indexOf(_str(item, "contains()")) >= 0;
  if (c instanceof Array) { for (var i = 0; i < c.length; i++) if (_eq(c[i], item)) return true; return false; }
  return _fail("contains() expected a string or a list, got " + _show(c));
}

//# _f_len
function _f_len(v) {
  if (typeof v === "string") return _cps(v).length;
  if (v instanceof Array) return v.length;
  if (_isobj(v)) { var n = 0; for (var k in v) if (_own(v, k)) n++; return n; }
  return _fail("len() expected a string, list or object, got " + _show(v));
}

//# _utf8
function _utf8(s) {
  var out = [], cps = _cps(s);
  for (var i = 0; i < cps.length; i++) {
    var c = cps[i].length === 2 ? (cps[i].charCodeAt(0) - 0xD800) * 0x400 + cps[i].charCodeAt(1) - 0xDC00 + 0x10000 : cps[i].charCodeAt(0);
    if (c >= 0xD800 && c < 0xE000) _fail("the text holds a lone surrogate and has no UTF-8 form");
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xC0 | c >> 6, 0x80 | c & 63);
    else if (c < 0x10000) out.push(0xE0 | c >> 12, 0x80 | c >> 6 & 63, 0x80 | c & 63);
    else out.push(0xF0 | c >> 18, 0x80 | c >> 12 & 63, 0x80 | c >> 6 & 63, 0x80 | c & 63);
  }
  return out;
}

//# _f_sha256
function _f_sha256(s) {
  var b = _utf8(_str(s, "sha256()")), K = [], H = [], i, j, p = 2, x;
  // the constants: fractional parts of the square and cube roots of the first primes
  for (i = 0; i < 64; p++) {
    for (j = 2; j * j <= p && p % j; j++);
    if (j * j > p) {
      if (i < 8) H.push(Math.pow(p, 1 / 2) * 4294967296 | 0);
      K.push(Math.pow(p, 1 / 3) * 4294967296 | 0);
      i++;
    }
  }
  var len = b.length;
  b.push(0x80);
  while (b.length % 64 !== 56) b.push(0);
  var bits = len * 8;
  b.push(0, 0, 0, (bits / 4294967296) & 255, bits >>> 24 & 255, bits >>> 16 & 255, bits >>> 8 & 255, bits & 255);
  function r(v, n) { return v >>> n | v << (32 - n); }
  for (var o = 0; o < b.length; o += 64) {
    var w = [], a = H.slice(0);
    for (i = 0; i < 64; i++) {
      if (i < 16) w[i] = b[o + 4 * i] << 24 | b[o + 4 * i + 1] << 16 | b[o + 4 * i + 2] << 8 | b[o + 4 * i + 3];
      else {
        var s0 = r(w[i - 15], 7) ^ r(w[i - 15], 18) ^ w[i - 15] >>> 3, s1 = r(w[i - 2], 17) ^ r(w[i - 2], 19) ^ w[i - 2] >>> 10;
        w[i] = w[i - 16] + s0 + w[i - 7] + s1 | 0;
      }
      var t1 = a[7] + (r(a[4], 6) ^ r(a[4], 11) ^ r(a[4], 25)) + (a[4] & a[5] ^ ~a[4] & a[6]) + K[i] + w[i] | 0;
      var t2 = (r(a[0], 2) ^ r(a[0], 13) ^ r(a[0], 22)) + (a[0] & a[1] ^ a[0] & a[2] ^ a[1] & a[2]) | 0;
      a = [t1 + t2 | 0, a[0], a[1], a[2], a[3] + t1 | 0, a[4], a[5], a[6]];
    }
    for (i = 0; i < 8; i++) H[i] = H[i] + a[i] | 0;
  }
  var hex = "";
  for (i = 0; i < 8; i++) { x = (H[i] >>> 0).toString(16); hex += _zeros(8 - x.length) + x; }
  return hex;
}

//# _days
function _days(y, m, d) {
  // days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)
  y -= m <= 2 ? 1 : 0;
  var era = Math.floor(y / 400), yoe = y - era * 400;
  var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

//# _civil
function _civil(z) {
  // [year, month, day] of a day count since 1970-01-01
  z += 719468;
  var era = Math.floor(z / 146097), doe = z - era * 146097;
  var yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  var doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100)), mp = Math.floor((5 * doy + 2) / 153);
  var m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, doy - Math.floor((153 * mp + 2) / 5) + 1];
}

//# _time
function _time(v, what) {
  // an ISO 8601 / RFC 3339 timestamp → [whole seconds since 1970, microseconds 0..999999]; no offset = UTC
  if (typeof v !== "string") _fail(what + " expected an RFC 3339 timestamp string, got " + _show(v));
  var s = _strip(v), m = /^(\d{4})(-?)(\d\d)\2(\d\d)/.exec(s), i, t = [0, 0, 0, ""], z = null;
  var bad = function () {
    return _fail(what + " could not read " + JSON.stringify(v) + " as a timestamp; expected RFC 3339, e.g. \"2025-08-04T08:13:04.882151Z\"");
  };
  if (!m) bad();
  var y = +m[1], mo = +m[3], d = +m[4], rest = s.slice(m[0].length);
  if (rest !== "") {
    i = rest.charCodeAt(0) >= 0xD800 && rest.charCodeAt(0) < 0xDC00 ? 2 : 1;
    var tm = /^(\d\d)(?:(:?)(\d\d)(?:\2(\d\d)(?:[.,](\d+))?)?)?([Zz]|[+-].*)?$/.exec(rest.slice(i));
    if (!tm) bad();
    t = [+tm[1], +(tm[3] || 0), +(tm[4] || 0), tm[5] || ""];
    if (tm[6] && tm[6] !== "Z" && tm[6] !== "z") {
      z = /^([+-])(\d\d)(?:(:?)(\d\d)(?:\3(\d\d)(?:\.(\d{1,6}))?)?)?$/.exec(tm[6]);
      if (!z || +z[2] > 23 || +(z[4] || 0) > 59 || +(z[5] || 0) > 59) bad();
    }
  }
  var mdays = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || t[0] > 23 || t[1] > 59 || t[2] > 59) bad();
  var sec = _days(y, mo, d) * 86400 + t[0] * 3600 + t[1] * 60 + t[2];
  var us = Number((t[3] + "000000").slice(0, 6));
  if (z) {
    var sign = z[1] === "-" ? -1 : 1;
    sec -= sign * (+z[2] * 3600 + +(z[4] || 0) * 60 + +(z[5] || 0));
    us -= sign * Number(((z[6] || "") + "000000").slice(0, 6));
    while (us < 0) { us += 1000000; sec -= 1; }
    while (us >= 1000000) { us -= 1000000; sec += 1; }
  }
  return [sec, us];
}

//# _f_epoch_ms
function _f_epoch_ms(v) { var t = _time(v, "epoch_ms()"); return t[0] * 1000 + Math.floor(t[1] / 1000); }

//# _f_epoch
function _f_epoch(v) { return _time(v, "epoch()")[0]; }

//# _isofmt
function _isofmt(sec, frac, what) {
  var day = Math.floor(sec / 86400), r = sec - day * 86400, c = _civil(day);
  if (!(c[0] >= 1 && c[0] <= 9999)) _fail(what + ": the date is out of range (years 1 to 9999)");
  var p = function (x, n) { var s = String(x); while (s.length < n) s = "0" + s; return s; };
  return p(c[0], 4) + "-" + p(c[1], 2) + "-" + p(c[2], 2) + "T" + p(Math.floor(r / 3600), 2) + ":" +
         p(Math.floor(r / 60) % 60, 2) + ":" + p(r % 60, 2) + frac + "Z";
}

//# _f_iso
function _f_iso(v) {
  var t = _time(v, "iso()"), us = String(t[1]);
  return _isofmt(t[0], t[1] ? "." + _zeros(6 - us.length) + us : "", "iso()");
}

//# _f_from_epoch_ms
function _f_from_epoch_ms(v) {
  var u = _integral(v, "from_epoch_ms()"), ms = Number(u[1]) * (u[0] ? -1 : 1), sec = Math.floor(ms / 1000);
  var f = String(ms - sec * 1000);
  return _isofmt(sec, "." + _zeros(3 - f.length) + f, "from_epoch_ms()");
}

//# _f_required
function _f_required(v, message) {
  if (v === undefined || v === null)
    _fail(typeof message === "string" ? message : "a required value is " + (v === undefined ? "missing" : "null"));
  return v;
}

//# _f_coalesce
function _f_coalesce() {
  for (var i = 0; i < arguments.length; i++) if (arguments[i] !== undefined && arguments[i] !== null) return arguments[i];
  return arguments.length && arguments[arguments.length - 1] === null ? null : undefined;
}

//# _f_exists
function _f_exists(v) { return v !== undefined; }

//# _f_is_null
function _f_is_null(v) { return v === null; }

//# _glob
function _glob(p, t) {
  // an event type pattern: `*` matches any text
  var parts = p.split("*"), pos = 0, i;
  if (parts.length === 1) return p === t;
  if (t.slice(0, parts[0].length) !== parts[0]) return false;
  pos = parts[0].length;
  for (i = 1; i < parts.length - 1; i++) {
    var k = t.indexOf(parts[i], pos);
    if (k < 0) return false;
    pos = k + parts[i].length;
  }
  var last = parts[parts.length - 1];
  return t.length - pos >= last.length && t.slice(t.length - last.length) === last;
}

//# _route
function _route(rules, t) {
  // the rule for event type `t`: an exact name beats a pattern, more literal text beats less; ties to the first
  var best = null, bs = null;
  for (var i = 0; i < rules.length; i++) {
    var ps = rules[i][0], s = null;
    for (var j = 0; j < ps.length; j++) {
      if (!_glob(ps[j], t)) continue;
      var x = ps[j].indexOf("*") < 0 ? [2, ps[j].length] : [1, ps[j].replace(/\*/g, "").length];
      if (s === null || x[0] > s[0] || (x[0] === s[0] && x[1] > s[1])) s = x;
    }
    if (s !== null && (bs === null || s[0] > bs[0] || (s[0] === bs[0] && s[1] > bs[1]))) { best = rules[i][1]; bs = s; }
  }
  return best;
}

//# _set
function _set(o, k, v) {
  // an assignment: a missing value leaves the field out; decimals become JSON numbers
  if (v !== undefined) _put(o, k, _j(v));
  return v;
}

//# _obj
function _obj(kv) {
  // `{k: v, ...}`: missing values left out
  var o = {};
  for (var i = 0; i < kv.length; i += 2) if (kv[i + 1] !== undefined) _put(o, kv[i], kv[i + 1]);
  return o;
}

//# _list
function _list(items) {
  // `[a, b]`: a missing item is null
  for (var i = 0; i < items.length; i++) if (items[i] === undefined) items[i] = null;
  return items;
}

//# _ap
function _ap(f, args) {
  // a builtin that passes absent values through: missing wins over null
  var i, isnull = false;
  for (i = 0; i < args.length; i++) {
    if (args[i] === undefined) return undefined;
    if (args[i] === null) isnull = true;
  }
  return isnull ? null : f.apply(null, args);
}

//# _map
function _map(lst, f) {
  // map and [*]: missing results left out; an absent list stays absent
  if (lst === undefined || lst === null) return lst;
  var out = [];
  for (var i = 0; i < lst.length; i++) { var v = f(lst[i]); if (v !== undefined) out.push(v); }
  return out;
}

//# _filter
function _filter(lst, f) {
  if (lst === undefined || lst === null) return lst;
  var out = [];
  for (var i = 0; i < lst.length; i++) if (f(lst[i])) out.push(lst[i]);
  return out;
}

//# _cat
function _cat() {
  // `a & b & c`: the left fold of `&`
  var acc = arguments[0];
  for (var i = 1; i < arguments.length; i++) acc = _concat(acc, arguments[i]);
  return acc;
}
