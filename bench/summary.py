"""``var/bench/results.json`` as Markdown, one column group per (scale, backend): for the closing notes.

.venv/bin/python bench/summary.py [scope|page|load|verify]
"""

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "var" / "bench" / "results.json"


def cell(r: dict | None) -> str:
    if r is None:
        return "| | |"
    ms = "—" if r["ms"] is None else f"{r['ms']:.1f}"
    base = "—" if r["baseline_ms"] is None else f"{r['baseline_ms']:.1f}"
    ratio = "—" if r["ratio"] is None else f"**{r['ratio']:.2f}**"
    if r.get("e2e_ms") is not None:
        ms += f" (e2e {r['e2e_ms']:.1f})"
        base += f" (e2e {r['baseline_e2e_ms']:.1f})"
    if r.get("queries") is not None and r["name"].startswith("page:"):
        ms += f", {r['queries']} q"
    if r.get("ids_match") is False:
        ratio += " ROWS DIFFER"
    return f"| {ms} | {base} | {ratio}"


def main() -> None:
    prefix = (sys.argv[1] if len(sys.argv) > 1 else "") + ":"
    rows = [r for r in json.loads(RESULTS.read_text()) if r["name"].startswith(prefix.lstrip(":"))]
    groups = sorted({(r["scale"], r["backend"]) for r in rows}, key=lambda g: (g[0] != "department", g[1]))
    names = list(dict.fromkeys(r["name"] for r in rows))
    index = {(r["name"], r["scale"], r["backend"]): r for r in rows}
    print("| name " + "".join(f"| {s} {b} ms | baseline | ratio " for s, b in groups) + "|")
    print("|---" + "|---:|---:|---:" * len(groups) + "|")
    for name in names:
        print(f"| {name} " + "".join(cell(index.get((name, s, b))) + " " for s, b in groups) + "|")


if __name__ == "__main__":
    main()
