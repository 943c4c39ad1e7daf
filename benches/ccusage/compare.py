#!/usr/bin/env python3
"""Compares daily totals of `ccusage daily --json` with `costlens report --json --period day`.

usage: compare.py CCUSAGE.json COSTLENS.json [MORE_COSTLENS.json ...]
       compare.py --tokscale TOKSCALE.json COSTLENS.json

Days must agree to $0.01 (both tools price per request and group by UTC day when ccusage runs
with --timezone UTC). Token totals are compared as well (ccusage's cacheCreationTokens is
costlens's 5-minute plus 1-hour writes). Exits 1 on any mismatch. Further costlens files (a
warm-cache run) must equal the first one exactly.
"""
import json
import sys


def ccusage_days(doc):
    rows = doc.get("daily") or doc.get("data") or []
    days, agents = {}, set()
    for r in rows:
        day = r.get("date") or r.get("period")
        days[day] = days.get(day, 0.0) + float(r.get("totalCost", r.get("costUSD", 0.0)))
        agents.update((r.get("metadata") or {}).get("agents", []))
    return days, agents, doc.get("totals", {})


def costlens_days(doc):
    return {p["period"]: float(p["actual_usd"]) for p in doc["series"]}


def tokscale(argv):
    """tokscale's totals (`tokscale models --json`) against costlens's: tokens must be equal;
    the cost is printed with its difference (the tools price differently: tokscale fetches its
    prices, and without network falls back to a table of its own)."""
    tk = json.load(open(argv[2]))
    cl = json.load(open(argv[3]))
    t = cl.get("tokens", {})
    pairs = [
        ("input", tk.get("totalInput"), t.get("uncached_input")),
        ("output", tk.get("totalOutput"), t.get("output")),
        ("cache read", tk.get("totalCacheRead"), t.get("cache_read")),
        ("cache write", tk.get("totalCacheWrite"), (t.get("cache_write_5m") or 0) + (t.get("cache_write_1h") or 0)),
        ("requests", tk.get("totalMessages"), cl.get("requests")),
    ]
    ok = True
    for name, a, b in pairs:
        same = a == b
        ok &= same
        print(f"tokscale {name:<11} {a:>15,}  costlens {b:>15,}  {'same' if same else 'DIFFERENT'}")
    a, b = float(tk.get("totalCost", 0.0)), float(cl.get("actual_usd") or 0.0)
    print(f"total cost: tokscale ${a:,.4f}   costlens ${b:,.4f}   difference ${b - a:+,.4f} ({100 * (b - a) / b:+.2f}%)")
    print("OK: the token totals agree" if ok else "MISMATCH")
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 2 and argv[1] == "--tokscale":
        return tokscale(argv)
    if len(argv) < 3:
        print(__doc__)
        return 2
    ccu_days, agents, ccu_totals = ccusage_days(json.load(open(argv[1])))
    cl_doc = json.load(open(argv[2]))
    cl_days = costlens_days(cl_doc)
    ok = True
    if agents - {"claude"}:
        print(f"warning: ccusage also counted other agents: {sorted(agents - {'claude'})}")
    bad = []
    for day in sorted(set(ccu_days) | set(cl_days)):
        a, b = ccu_days.get(day, 0.0), cl_days.get(day, 0.0)
        if abs(a - b) > 0.01:
            bad.append((day, a, b))
    n = len(set(ccu_days) | set(cl_days))
    total_ccu, total_cl = sum(ccu_days.values()), sum(cl_days.values())
    print(f"days compared: {n}; within $0.01: {n - len(bad)}; differing: {len(bad)}")
    print(f"total: ccusage ${total_ccu:,.4f}   costlens ${total_cl:,.4f}   difference ${total_cl - total_ccu:+,.4f}")
    for day, a, b in bad[:20]:
        print(f"  {day}: ccusage ${a:,.4f}  costlens ${b:,.4f}  ({b - a:+.4f})")
    ok &= not bad
    t = cl_doc.get("tokens", {})
    pairs = [
        ("input", ccu_totals.get("inputTokens"), t.get("uncached_input")),
        ("output", ccu_totals.get("outputTokens"), t.get("output")),
        ("cache read", ccu_totals.get("cacheReadTokens"), t.get("cache_read")),
        ("cache write", ccu_totals.get("cacheCreationTokens"), (t.get("cache_write_5m") or 0) + (t.get("cache_write_1h") or 0)),
    ]
    for name, a, b in pairs:
        if a is None:
            continue
        same = a == b
        ok &= same
        print(f"tokens {name:<11} ccusage {a:>15,}  costlens {b:>15,}  {'same' if same else 'DIFFERENT'}")
    for other in argv[3:]:
        same = costlens_days(json.load(open(other))) == cl_days
        ok &= same
        print(f"{other}: {'same daily totals' if same else 'DIFFERENT daily totals'} as {argv[2]}")
    print("OK: the daily totals agree" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
