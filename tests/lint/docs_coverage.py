#!/usr/bin/env python3
"""Keeps docs/ true to the code: every config key the loader accepts is in docs/config.md, every
metric family vane exposes is in docs/metrics.md, and neither documents what the code lacks.

Usage: docs_coverage.py ROOT            check; exit 1 with the differences listed
       docs_coverage.py ROOT --list     print the key paths and families found in the sources

What the docs must contain: the first cell of a table row, a single backticked name —
`upstreams[].healthCheck.interval` in docs/config.md, `vane_requests_total` in docs/metrics.md.
Key paths: `.` between map keys, `[]` for the items of a list, `<name>` for a map whose keys
are names the user chooses (the header names of a mirror match).

How the config keys are found. config/ reads the file through MapReader (config/yaml_reader.hpp):
`MapReader m(r, v)` opens the map `v`, and `m.take("k")`, `m.require("k")`, `m.get("k", ...)`,
`m.get_duration("k", ...)` and `m.take_all()` read its keys; any key never read is an error
("unknown key"). So the keys MapReader reads ARE the accepted keys. This script walks the
parse functions of config/*.cpp from parse_document() (the root of the file) the way the loader
does, and tracks which path each `Value` holds:
  - a key read:                    `const auto X = m.take("k")`          X is PATH.k
  - the items of a list:           `for (const Value& I : r.list(*X))`   I is PATH.k[]
  - a map of chosen names:         `for (const auto& [n, V] : m.take_all())`  V is PATH.<name>
  - a call of another config/ function passing a Value, a MapReader, a key literal or a
    true/false literal: the callee is walked with those bindings (keys it reads through a
    MapReader& parameter land under the caller's map; a `std::string_view key` parameter
    takes the literal; `if (flag) m.get(...)` with a bool parameter bound to false is skipped);
  - keys taken in a loop over a constant table (`for (const auto& [key, kind] : kinds)` over
    `{{"setWeight", Kind::SetWeight}, ...}`, or `for (const char* k : {"a", "b"})`): one path
    per literal; when such a value goes to a function that switches on `Kind::X`, only the
    calls under `case ...Kind::X:` are followed for that literal (parse_step_body).
Limits, and the guards that make them loud rather than silent:
  - It reads source text, not a C++ AST: it knows the shapes above. A read in a shape it does
    not know is caught by the guards: every literal key read (`.take("k")`, `.get("k"`, …) in
    config/*.cpp must lie in a function it recognised, and every such read must have produced a
    path during the walk (else: "not reached"); a MapReader over a Value it cannot place, or a
    key variable it cannot resolve, is an error too.
  - What it cannot see: a Value handed on in an unknown shape (say `parse_foo(r, m.take("k")
    .value())`) to a function that is also reached another way — the keys under that new path
    would be missed. Keep the shapes above, or teach this script the new one.
  - Validation rules (ranges, defaults, cross-references) are not checked here, only names.

How the metric families are found: every string literal "vane_…" or "process_…" in the C++
sources of config/ analysis/ rollout/ proxy/ control/ cli/ (whichever exist; not tests/ or
bench/). A family whose name were assembled at run time would not be seen: a literal that ends
in "_" (a prefix) is reported as an error so that such code cannot slip in unnoticed.
"""
import itertools
import os
import re
import sys

# ---- C++ source text ---------------------------------------------------------------------------


def strip_comments(text):
    """Blanks out // and /* */ comments (keeping offsets and newlines), leaving literals intact."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            # raw strings: R"delim( ... )delim"
            if c == '"' and i > 0 and text[i - 1] == "R":
                m = re.match(r'"([^()\\ ]{0,16})\(', text[i:])
                if m:
                    end = text.find(")" + m.group(1) + '"', i)
                    i = n if end < 0 else end + len(m.group(1)) + 2
                    continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


def match_close(text, i, open_c, close_c):
    """Index just past the bracket that closes text[i] (== open_c); skips literals."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def split_top(text):
    """Splits an argument or parameter list at top-level commas; template argument lists
    (`std::array<std::string_view, 3>`) are dropped first so their commas do not count."""
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"(?<=\w)<[^<>();{}]*>", "", text)
    parts, depth, cur, quote = [], 0, "", None
    for c in text:
        if quote:
            cur += c
            if c == quote and not cur.endswith("\\" + quote):
                quote = None
            continue
        if c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


KEYWORDS = {"if", "for", "while", "switch", "return", "catch", "sizeof", "decltype", "alignof"}


class Function:
    def __init__(self, name, params, body, body_start, file, text):
        self.name, self.body, self.body_start, self.file, self.text = name, body, body_start, file, text
        # params: list of (kind, name); kind is value | reader | key | bool | other
        self.params = []
        for p in split_top(params):
            p = re.sub(r"\s*=.*$", "", p).strip()
            m = re.search(r"(\w+)\s*$", p)
            pname = m.group(1) if m else ""
            if re.search(r"\bValue\s*&", p):
                kind = "value"
            elif re.search(r"\bMapReader\s*&", p):
                kind = "reader"
            elif re.search(r"\bstd::string_view\b", p):
                kind = "key"
            elif re.match(r"(const\s+)?bool\b", p):
                kind = "bool"
            else:
                kind = "other"
            self.params.append((kind, pname))

    def line_of(self, offset):
        return self.text.count("\n", 0, self.body_start + offset) + 1


def parse_functions(path):
    raw = open(path, encoding="utf-8").read()
    text = strip_comments(raw)
    functions = []
    pos = 0
    head = re.compile(r"^[A-Za-z_][^;{}()#]*?\b(\w+)\s*\(", re.M)
    while True:
        m = head.search(text, pos)
        if not m:
            break
        name = m.group(1)
        open_paren = m.end() - 1
        close = match_close(text, open_paren, "(", ")")
        rest = re.match(r"\s*(const\s*)?(noexcept\s*)?\{", text[close:])
        if name in KEYWORDS or not rest:
            pos = m.end()
            continue
        brace = close + rest.end() - 1
        end = match_close(text, brace, "{", "}")
        functions.append(Function(name, text[open_paren + 1:close - 1], text[brace + 1:end - 1],
                                  brace + 1, path, text))
        pos = end
    return text, functions


# ---- the walk ----------------------------------------------------------------------------------

READ = re.compile(r"\b(\w+)\.(take|require|get|get_duration)\(\s*(\"[^\"]*\"|\w+)")
TAKE_DECL = re.compile(r"\bauto\s+(\w+)\s*=\s*(\w+)\.(take|require)\(\s*(\"[^\"]*\"|\w+)\s*\)")
TAKE_ALL = re.compile(r"for\s*\(\s*const\s+auto\s*&\s*\[\s*\w+\s*,\s*(\w+)\s*\]\s*:\s*(\w+)\.take_all\(\s*\)")
LIST_LOOP = re.compile(r"for\s*\(\s*const\s+Value\s*&\s*(\w+)\s*:\s*r\.list\(\s*\*?(\w+)")
READER_DECL = re.compile(r"\bMapReader\s+(\w+)\(\s*r\s*,\s*\*?(\w+)\s*\)")
CALL = re.compile(r"\b(\w+)\s*\(")
CASE = re.compile(r"\bcase\s+[\w:]*::(\w+)\s*:")
LITERAL_KEY_READ = re.compile(r"\.(?:take|require|get|get_duration)\(\s*\"([^\"]*)\"")


def join(base, key):
    return key if not base else base + "." + key


class Walker:
    def __init__(self, files):
        self.functions = {}
        self.file_text = {}
        for path in files:
            text, fns = parse_functions(path)
            self.file_text[path] = text
            for f in fns:
                self.functions.setdefault(f.name, []).append(f)
        self.paths = {}        # key path -> "file:line" of a read that produced it
        self.produced = set()  # (file, line) of reads that produced a path
        self.errors = []
        self.seen = set()

    def fail(self, fn, offset, message):
        self.errors.append("%s:%d: %s: %s" % (os.path.relpath(fn.file), fn.line_of(offset), fn.name, message))

    def key_literals(self, fn, ident):
        """The literals a key variable stands for: [(literal, tag)], or None."""
        body = fn.body
        m = re.search(r"for\s*\(\s*const\s+auto\s*&\s*\[\s*" + ident + r"\s*,\s*\w+\s*\]\s*:\s*(\w+)\s*\)", body)
        if m:
            table = m.group(1)
            for src in (body, self.file_text[fn.file]):
                d = re.search(r"\b" + table + r"\s*\{(.*?)\}\s*;", src, re.S)
                if d:
                    return [(lit, tag) for lit, tag in
                            re.findall(r"\{\s*\"([^\"]+)\"\s*,\s*[\w:]*?(\w+)\s*\}", d.group(1))]
            return None
        m = re.search(r"for\s*\(\s*const\s+char\s*\*\s*" + ident + r"\s*:\s*\{([^}]*)\}\s*\)", body)
        if m:
            return [(lit, None) for lit in re.findall(r"\"([^\"]+)\"", m.group(1))]
        return None

    def resolve_key(self, fn, token, keys, at):
        if token.startswith('"'):
            return [(token[1:-1], None)]
        if token in keys:
            return [(keys[token], None)]
        lits = self.key_literals(fn, token)
        if lits is None:
            self.fail(fn, at, "cannot tell which key %s stands for" % token)
            return []
        return lits

    def walk(self, fn, values, readers, keys, bools, tag):
        """values: param/var -> [(path, tag)]; readers: var -> [path]; keys: var -> literal;
        bools: var -> True/False; tag: the Kind a switch in this function is for (or None)."""
        sig = (fn.file, fn.name, repr(sorted(values.items())), repr(sorted(readers.items())),
               repr(sorted(keys.items())), repr(sorted(bools.items())), tag)
        if sig in self.seen:
            return
        self.seen.add(sig)
        body = fn.body
        values = {k: list(v) for k, v in values.items()}
        readers = {k: list(v) for k, v in readers.items()}
        cases = [(m.start(), m.group(1)) for m in CASE.finditer(body)]

        def case_at(offset):
            current = None
            for start, name in cases:
                if start < offset:
                    current = name
            return current

        events = []
        for m in READER_DECL.finditer(body):
            events.append((m.start(), "reader", m))
        for m in TAKE_DECL.finditer(body):
            events.append((m.start(), "decl", m))
        for m in LIST_LOOP.finditer(body):
            events.append((m.start(), "list", m))
        for m in TAKE_ALL.finditer(body):
            events.append((m.start(), "take_all", m))
        for m in READ.finditer(body):
            events.append((m.start(), "read", m))
        for m in CALL.finditer(body):
            if m.group(1) in self.functions and m.group(1) != fn.name:
                events.append((m.start(), "call", m))
        events.sort(key=lambda e: (e[0], ["reader", "decl", "list", "take_all", "read", "call"].index(e[1])))

        def guarded_off(offset):
            line_start = body.rfind("\n", 0, offset) + 1
            g = re.search(r"\bif\s*\(\s*(\w+)\s*\)\s*$", body[line_start:offset])
            return bool(g and bools.get(g.group(1)) is False)

        for offset, kind, m in events:
            if kind == "reader":
                var, src = m.group(1), m.group(2)
                if src not in values:
                    self.fail(fn, offset, "MapReader %s reads %s, whose place in the file is unknown" % (var, src))
                    readers[var] = []
                else:
                    readers[var] = [p for p, _ in values[src]]
            elif kind == "decl":
                var, reader, token = m.group(1), m.group(2), m.group(4)
                if reader not in readers:
                    continue
                lits = self.resolve_key(fn, token, keys, offset)
                values[var] = [(join(base, lit), t) for base in readers[reader] for lit, t in lits]
            elif kind == "list":
                item, src = m.group(1), m.group(2)
                if src in values:
                    values[item] = [(p + "[]", None) for p, _ in values[src]]
            elif kind == "take_all":
                var, reader = m.group(1), m.group(2)
                if reader in readers:
                    values[var] = [(join(base, "<name>"), None) for base in readers[reader]]
                    for p, _ in values[var]:
                        self.paths.setdefault(p, "%s:%d" % (os.path.relpath(fn.file), fn.line_of(offset)))
            elif kind == "read":
                reader, token = m.group(1), m.group(3)
                if reader not in readers or guarded_off(offset):
                    continue
                where = "%s:%d" % (os.path.relpath(fn.file), fn.line_of(offset))
                for base in readers[reader]:
                    for lit, _ in self.resolve_key(fn, token, keys, offset):
                        self.paths.setdefault(join(base, lit), where)
                self.produced.add((fn.file, fn.line_of(offset)))
            elif kind == "call":
                if tag is not None and cases and case_at(offset) not in (None, tag):
                    continue  # a switch on Kind: only the case of this value's kind applies
                close = match_close(body, m.end() - 1, "(", ")")
                args = split_top(body[m.end():close - 1])
                self.call(fn, offset, m.group(1), args, values, readers, keys, bools)

    def call(self, fn, offset, name, args, values, readers, keys, bools):
        for callee in self.functions[name]:
            if len(callee.params) < len(args):
                continue
            choices = {"values": {}, "readers": {}, "keys": {}, "bools": {}}
            value_bindings = []
            relevant = False
            for (kind, pname), arg in zip(callee.params, args):
                bare = arg.lstrip("*").strip()
                if kind == "value" and bare in values:
                    value_bindings.append((pname, values[bare]))
                    relevant = True
                elif kind == "reader" and bare in readers:
                    choices["readers"][pname] = readers[bare]
                    relevant = True
                elif kind == "key" and re.fullmatch(r"\"[^\"]*\"", arg):
                    choices["keys"][pname] = arg[1:-1]
                elif kind == "key" and arg in keys:
                    choices["keys"][pname] = keys[arg]
                elif kind == "bool" and arg in ("true", "false"):
                    choices["bools"][pname] = arg == "true"
                elif kind == "bool" and arg in bools:
                    choices["bools"][pname] = bools[arg]
            if not relevant:
                continue
            # one walk per (path, tag) of each Value argument: a tag selects a switch case
            for combo in itertools.product(*[[(p, b) for b in bs] for p, bs in value_bindings]):
                vals = {p: [b] for p, b in combo}
                tags = {b[1] for _, b in combo if b[1] is not None}
                self.walk(callee, vals, choices["readers"], choices["keys"], choices["bools"],
                          next(iter(tags)) if len(tags) == 1 else None)


def config_keys(root):
    config_dir = os.path.join(root, "config")
    files = sorted(os.path.join(config_dir, f) for f in os.listdir(config_dir) if f.endswith(".cpp"))
    w = Walker(files)
    entry = w.functions.get("parse_document")
    if not entry:
        return {}, ["config/: parse_document() not found: the walk has no root"]
    w.walk(entry[0], {p: [("", None)] for k, p in entry[0].params if k == "value"}, {}, {}, {}, None)
    # Guards: every literal key read must sit in a recognised function and have been reached.
    for path in files:
        text = w.file_text[path]
        spans = [(f.body_start, f.body_start + len(f.body), f) for fs in w.functions.values()
                 for f in fs if f.file == path]
        for m in LITERAL_KEY_READ.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            inside = any(a <= m.start() < b for a, b, _ in spans)
            if not inside:
                w.errors.append("%s:%d: key \"%s\" is read outside any function this script recognised"
                                % (os.path.relpath(path), line, m.group(1)))
            elif (path, line) not in w.produced:
                w.errors.append("%s:%d: key \"%s\": the walk from parse_document() never reached this read"
                                % (os.path.relpath(path), line, m.group(1)))
    return w.paths, w.errors


def metric_families(root):
    names, errors = {}, []
    for module in ("config", "analysis", "rollout", "proxy", "control", "cli"):
        top = os.path.join(root, module)
        if not os.path.isdir(top):
            continue
        for dirpath, _, filenames in os.walk(top):
            for f in sorted(filenames):
                if not f.endswith((".cpp", ".hpp", ".h", ".cc")):
                    continue
                path = os.path.join(dirpath, f)
                text = strip_comments(open(path, encoding="utf-8").read())
                for m in re.finditer(r"\"((?:vane|process)_[A-Za-z0-9_]*)\"", text):
                    line = text.count("\n", 0, m.start()) + 1
                    where = "%s:%d" % (os.path.relpath(path, root), line)
                    if m.group(1).endswith("_"):
                        errors.append("%s: \"%s\" looks like a metric name assembled at run time; "
                                      "write family names as whole literals" % (where, m.group(1)))
                    else:
                        names.setdefault(m.group(1), where)
    return names, errors


def documented(path):
    """First-cell backticked names of the table rows of a doc."""
    names = set()
    if not os.path.exists(path):
        return None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\s*\|\s*`([^`]+)`\s*\|", line)
        if m:
            names.add(m.group(1))
    return names


def main():
    if len(sys.argv) < 2:
        print(__doc__.split("\n\n")[1])
        return 2
    root = os.path.abspath(sys.argv[1])
    os.chdir(root)
    keys, key_errors = config_keys(root)
    families, family_errors = metric_families(root)
    if "--list" in sys.argv[2:]:
        for k in sorted(keys):
            print("key    ", k)
        for f in sorted(families):
            print("family ", f)
        return 0
    problems = []
    problems += ["extraction: " + e for e in key_errors + family_errors]
    if not keys:
        problems.append("extraction: no config keys found in config/*.cpp")
    if not families:
        problems.append("extraction: no metric families found in the sources")
    config_doc = documented(os.path.join(root, "docs", "config.md"))
    metrics_doc = documented(os.path.join(root, "docs", "metrics.md"))
    if config_doc is None:
        problems.append("docs/config.md is missing")
        config_doc = set()
    if metrics_doc is None:
        problems.append("docs/metrics.md is missing")
        metrics_doc = set()
    for k in sorted(set(keys) - config_doc):
        problems.append("docs/config.md lacks `%s` (the loader reads it at %s)" % (k, keys[k]))
    for k in sorted(config_doc - set(keys)):
        problems.append("docs/config.md documents `%s`, which the loader does not accept" % k)
    for f in sorted(set(families) - metrics_doc):
        problems.append("docs/metrics.md lacks `%s` (exposed at %s)" % (f, families[f]))
    for f in sorted(metrics_doc - set(families)):
        problems.append("docs/metrics.md documents `%s`, which no source exposes" % f)
    if problems:
        print("docs coverage: %d problem(s)" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    print("docs coverage ok: %d config keys, %d metric families" % (len(keys), len(families)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
