"""The markdown report of a differential run: a summary, then one row per case on which the proxies
did not answer alike, with the RFC section the corpus gives for vane's answer."""

import collections


def cell(row):
    text = "%s %s" % (row["statuses"], "close" if row["connection"] == "closed" else "open")
    if int(row["forwarded"]):
        text += ", fwd: " + row["upstream"].replace("|", "\\|")
    if int(row["canary_forwarded"]):
        text += " (+canary)"
    if row["desync"] == "yes":
        text += " **HIDDEN REQUEST UPSTREAM**"
    if row["lenient_backend_desync"] == "yes":
        text += " (a lenient backend would see a hidden request)"
    if row["alive"] != "yes":
        text += " **CRASHED**"
    return text


def signature(row):
    """What a difference is made of; interim 1xx answers are left out."""
    finals = [s for s in row["statuses"].split() if not s.startswith("1")]
    return (tuple(finals), row["connection"], int(row["forwarded"]), row["desync"])


def verdict(row):
    """Coarse: did the proxy refuse the case (its first final answer an error), serve it, or say
    nothing? A head forwarded before a bad body was found still counts as refused."""
    finals = [int(s) for s in row["statuses"].split() if s.lstrip("-").isdigit() and not s.startswith("1")]
    if not finals:
        return "no answer"
    return "refused" if finals[0] >= 400 else "served"


def write_markdown(path, cases, rows, proxies):
    by_case = collections.defaultdict(dict)
    for row in rows:
        by_case[row["case"]][row["proxy"]] = row
    same = sum(1 for c in cases if len({signature(by_case[c["id"]][p]) for p in proxies}) == 1)
    same_verdict = sum(1 for c in cases if len({verdict(by_case[c["id"]][p]) for p in proxies}) == 1)
    out = ["# Differential run: %s" % ", ".join(proxies), "",
           "%d cases (tests/differential/corpus.txt), each on a fresh connection to each proxy." % len(cases),
           "", "| | " + " | ".join(proxies) + " |", "|---|" + "---|" * len(proxies)]
    for label, test in (("hidden request reached the upstream", lambda r: r["desync"] == "yes"),
                        ("a lenient backend would see a hidden request", lambda r: r["lenient_backend_desync"] == "yes"),
                        ("refused (an error answered)", lambda r: verdict(r) == "refused"),
                        ("served", lambda r: verdict(r) == "served"),
                        ("no answer", lambda r: verdict(r) == "no answer"),
                        ("connection left open after an error", lambda r: verdict(r) == "refused" and r["connection"] == "open"),
                        ("crashed", lambda r: r["alive"] != "yes")):
        counts = [sum(1 for r in rows if r["proxy"] == p and test(r)) for p in proxies]
        out.append("| %s | %s |" % (label, " | ".join(str(n) for n in counts)))
    if "vane" in proxies:
        misses = [r["case"] for r in rows if r["vane_expected"].startswith("MISMATCH")]
        out += ["", "vane answered as the corpus expects in %d of %d cases%s." % (
            len(cases) - len(misses), len(cases), (": not in " + ", ".join(misses)) if misses else "")]
    out += ["", "All proxies answered identically (statuses, connection, forwarded) in %d of %d cases, "
            "and reached the same verdict (refused / served / no answer) in %d." % (same, len(cases), same_verdict),
            "", "## Cases where they differ", "",
            "| case | " + " | ".join(proxies) + " | RFC for vane's answer |",
            "|---|" + "---|" * (len(proxies) + 1)]
    for case in cases:
        cells = by_case[case["id"]]
        if len({signature(cells[p]) for p in proxies}) == 1:
            continue
        out.append("| `%s` | %s | %s |" % (case["id"], " | ".join(cell(cells[p]) for p in proxies),
                                            case["rfc"].replace("|", "\\|")))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
