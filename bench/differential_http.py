"""Shared pieces of the differential run (bench/differential.sh): the corpus reader and the two
readings of the bytes an upstream received.

- strict: RFC 9112 as a careful origin reads it (what vane-test-upstream or any strict server sees);
- lenient: what a forgiving backend might make of the same bytes (bare LF line ends, whitespace and
  '_' folded out of field names, the first digits of a length, "chunked" anywhere in a
  Transfer-Encoding). A proxy that forwards bytes on which the two disagree hands an ambiguity on.
"""

import re

CANARY = b"GET /canary HTTP/1.1\r\nHost: x.test\r\n\r\n"
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


# ---- the corpus (format: tests/differential/corpus.txt's header) --------------------------------

def unescape(text):
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "0": b"\0"}[n]
            i += 2
            continue
        out.append(ord(c))
        i += 1
    return bytes(out)


def load_corpus(path):
    cases, case = [], None
    for raw_line in open(path, encoding="utf-8"):
        line = raw_line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            case = {"id": line[1:-1], "sources": [], "expect": [], "data": b"", "canary": True,
                    "client": None, "rfc": "", "forward": (0, 0), "note": ""}
            cases.append(case)
            continue
        key, _, value = line.partition(": ")
        if key == "send":
            case["data"] += unescape(value)
        elif key == "repeat":
            count, _, text = value.partition(" ")
            case["data"] += unescape(text) * int(count)
        elif key == "source":
            case["sources"].append(value)
        elif key == "expect":
            case["expect"].append(value)
        elif key == "forward":
            lo, _, hi = value.partition("..")
            case["forward"] = (int(lo), int(hi or lo))
        elif key == "canary":
            case["canary"] = value != "no"
        else:
            case[key] = value
    return cases


def expectation_met(case, statuses, closed, forwarded, canary_forwarded):
    """vane's answer against the corpus (as tests/integration/smuggling_corpus_test.cpp judges it):
    final statuses (1xx dropped), the connection, the case's own forwarded requests; with keep the
    canary must have been answered and forwarded, with any it may have been."""
    finals = [s for s in statuses if not 100 <= s < 200]
    for alternative in case["expect"]:
        *wanted, conn = alternative.split()
        wanted = [] if wanted == ["none"] else wanted
        got = list(finals)
        canary_back = (case["canary"] and conn != "close" and canary_forwarded and
                       len(got) == len(wanted) + 1 and got[-1] == 200)
        if conn == "keep" and case["canary"] and not canary_back:
            continue
        if canary_back:
            got = got[:-1]
        if len(got) != len(wanted) or any(str(g) not in w.split("|") for g, w in zip(got, wanted)):
            continue
        if conn == "close" and not closed:
            continue
        lo, hi = case["forward"]
        if lo <= forwarded <= hi:
            return True
    return False


# ---- the two readings of an upstream byte stream -------------------------------------------------

class Bad(Exception):
    pass


def _lines(buf, pos, lenient):
    """Yields (line, next_pos); raises Bad on a bare CR or LF in strict mode, IndexError if cut."""
    while True:
        lf = buf.find(b"\n", pos)
        if lf < 0:
            raise IndexError("cut")
        line = buf[pos:lf]
        if line.endswith(b"\r"):
            line = line[:-1]
        elif not lenient:
            raise Bad("bare LF")
        if not lenient and b"\r" in line:
            raise Bad("bare CR")
        yield line, lf + 1
        pos = lf + 1


def _field(line, lenient):
    name, sep, value = line.partition(b":")
    if lenient:
        name = re.sub(rb"[\x00-\x20\x7f-\xff]", b"", name).replace(b"_", b"-")
        return name.lower(), value.strip(b" \t\x0b\x0c\r\xa0\x85")
    if not sep or not TOKEN.match(name):
        raise Bad("field name")
    value = value.strip(b" \t")
    if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value):
        raise Bad("field value")
    return name.lower(), value


def _head(buf, pos, lenient):
    lines = _lines(buf, pos, lenient)
    line, pos = next(lines)
    while lenient and not line.strip():
        line, pos = next(lines)
    parts = line.split() if lenient else line.split(b" ")
    if len(parts) != 3 or (not lenient and not re.match(rb"^HTTP/1\.[01]$", parts[2])):
        raise Bad("request line")
    fields = []
    for line, pos in lines:
        if not line:
            return parts, fields, pos
        if line[:1] in (b" ", b"\t"):
            if not lenient:
                raise Bad("obs-fold")
            if fields:
                fields[-1] = (fields[-1][0], fields[-1][1] + b" " + line.strip())
            continue
        fields.append(_field(line, lenient))


def _framing(fields, lenient):
    te = [v for n, v in fields if n == b"transfer-encoding"]
    cl = [v for n, v in fields if n == b"content-length"]
    if lenient:
        if any(b"chunked" in v.lower() for v in te):
            return "chunked", 0
        digits = re.match(rb"\s*[+]?(\d+)", cl[0]) if cl else None
        return ("length", int(digits.group(1))) if digits else ("none", 0)
    if te:
        codings = [c.strip(b" \t").lower() for v in te for c in v.split(b",") if c.strip(b" \t")]
        if cl or not codings or codings[-1] != b"chunked" or codings.count(b"chunked") != 1:
            raise Bad("transfer-encoding")
        return "chunked", 0
    values = {c.strip(b" \t") for v in cl for c in v.split(b",")}
    if len(values) > 1 or any(not re.match(rb"^\d+$", v) for v in values):
        raise Bad("content-length")
    return ("length", int(values.pop())) if values else ("none", 0)


def _chunked(buf, pos, lenient):
    size_total = 0
    while True:
        lines = _lines(buf, pos, lenient)
        line, pos = next(lines)
        m = re.match(rb"^\s*(?:0x)?([0-9A-Fa-f]+)" if lenient else rb"^([0-9A-Fa-f]+)(?:[ \t]*;.*)?$", line)
        if not m:
            raise Bad("chunk size")
        size = int(m.group(1), 16)
        if size == 0:
            for line, pos in _lines(buf, pos, lenient):
                if not line:
                    return size_total, pos
        if pos + size + 2 > len(buf):
            raise IndexError
        if buf[pos + size:pos + size + 2] != b"\r\n" and not lenient:
            raise Bad("chunk data")
        size_total += size
        pos += size + 2


def read_requests(buf, lenient=False):
    """The requests in an upstream's byte stream: (requests, note). Each request is a dict with
    method, target, framing, body (bytes of body), complete."""
    requests, pos = [], 0
    while pos < len(buf):
        try:
            (method, target, _), fields, body_at = _head(buf, pos, lenient)
            framing, length = _framing(fields, lenient)
            request = {"method": method.decode("latin1"), "target": target.decode("latin1"),
                       "framing": framing, "body": length, "complete": False}
            requests.append(request)
            if framing == "chunked":
                request["body"], pos = _chunked(buf, body_at, lenient)
            elif body_at + length > len(buf):
                return requests, "body cut after %d of %d bytes" % (len(buf) - body_at, length)
            else:
                pos = body_at + length
            request["complete"] = True
        except (IndexError, StopIteration):
            return requests, "incomplete tail (%d bytes)" % (len(buf) - pos)
        except Bad as e:
            return requests, "unreadable at byte %d: %s" % (pos, e)
    return requests, ""


def describe(request):
    body = {"chunked": "chunked", "length": "cl", "none": "no body"}[request["framing"]]
    if request["framing"] != "none":
        body += " %d" % request["body"]
    text = "%s %s (%s)" % (request["method"], request["target"][:40], body)
    return text + ("" if request["complete"] else " [cut]")
