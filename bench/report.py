"""Build docs/performance.md from the benchmarks' results (bench/results/*.json).

Run with ``.venv/bin/python bench/report.py`` (``make bench`` runs it after the
scripts). The page is one table: the issue's targets in a fixed order, each with the
figures last recorded for it (a target nobody measured yet says so), then any other
recorded rows, and the machine's load while each script ran.
"""

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "performance.md"


@dataclass(frozen=True)
class Target:
    key: str  # the ``path`` of a result row (harness.TARGETS)
    bound: str  # the target as the issue states it
    limit: float | None  # the largest ratio that meets it (None: see ``absolute_ms``)
    absolute_ms: float | None = None  # a bound on CPOR's own time instead


TARGETS = (
    Target("create_submit_3step", "≤ 4x (≥ 25% of the SQL's claims/s)", 4),
    Target("create_submit_single", "≤ 4x (≥ 25% of the SQL's claims/s)", 4),
    Target("approval_service", "≤ 3x", 3),
    Target("approval_review_post", "≤ 5x", 5),
    Target("web_list_first", "≤ 3x", 3),
    Target("web_list_deep", "≤ 3x, as cheap as the first page", 3),
    Target("web_list_10x", "10x the data ≤ 1.2x the time", 1.2),
    Target("review_queue_first", "≤ 3x", 3),
    Target("review_queue_deep", "≤ 3x, as cheap as the first page", 3),
    Target("api_list_first", "≤ 2x", 2),
    Target("api_list_deep", "≤ 2x, as cheap as the first page", 2),
    Target("search", "≤ 50 ms", None, absolute_ms=50),
    Target("jobs_activation", "≤ 2x", 2),
    Target("jobs_other", "≤ 2x", 2),
    Target("usage_import", "≥ 70% of COPY's rows/s (≤ 1.43x)", 1 / 0.7),
)


def load_results(folder: Path) -> list[dict]:
    documents = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            print(f"report: skipping {path.name}: {error}")
            continue
        document["file"] = path.name
        documents.append(document)
    return documents


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def figure(value, unit: str | None, cpu_app=None, cpu_pg=None) -> str:
    if value is None:
        return "—"
    text = f"{number(value)} {unit or ''}".strip()
    if cpu_app is not None or cpu_pg is not None:
        text += f"; CPU {number(cpu_app or 0)} app + {number(cpu_pg or 0)} PG ms"
    return text


def ratio_cell(row: dict) -> str:
    ratio = row.get("ratio")
    if ratio is None:
        return "—"
    text = f"{ratio:.1f}x" if ratio < 100 else f"{ratio:,.0f}x"
    if row.get("cpu_ratio") is not None:
        text += f" (CPU {row['cpu_ratio']:.1f}x)"
    return text


def verdict(target: Target | None, row: dict) -> str:
    if target is None:
        return ""
    if target.absolute_ms is not None:
        value = row.get("cpor")
        if value is None or row.get("unit") != "ms":
            return ""
        return " ✓" if value <= target.absolute_ms else " ✗"
    ratio = row.get("ratio")
    if ratio is None or target.limit is None:
        return ""
    return " ✓" if ratio <= target.limit else " ✗"


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def table_row(label: str, target: Target | None, row: dict | None, source: str) -> str:
    bound = target.bound if target else "no target"
    if row is None:
        return f"| {label} | {bound} | not measured | | | | |"
    cpor = figure(row.get("cpor"), row.get("unit"), row.get("cpu_app_ms"), row.get("cpu_pg_ms"))
    baseline = figure(
        row.get("baseline"),
        row.get("unit"),
        row.get("baseline_cpu_app_ms"),
        row.get("baseline_cpu_pg_ms"),
    )
    note = cell(row.get("note") or "")
    note = f"{note} ({source})" if note else f"({source})"
    cells = [
        label,
        bound,
        cpor,
        baseline,
        ratio_cell(row) + verdict(target, row),
        row.get("date") or "",
        note,
    ]
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def scripts() -> list[str]:
    """Each benchmark script with the first line of its docstring."""
    lines = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name in {"harness.py", "report.py"}:
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        except SyntaxError:
            doc = ""
        summary = " ".join(doc.split("\n\n")[0].split())
        lines.append(f"- `bench/{path.name}`: {summary}" if summary else f"- `bench/{path.name}`")
    return lines


def build(documents: list[dict]) -> str:
    found: dict[str, list[tuple[dict, str]]] = {}
    for document in documents:
        for row in document.get("rows", []):
            found.setdefault(row.get("path"), []).append((row, document["file"]))
    lines = [
        "| target | bound | CPOR | baseline | ratio | date | how it is measured |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for target in TARGETS:
        label = harness.TARGETS.get(target.key, target.key)
        measured = found.pop(target.key, [])
        if not measured:
            lines.append(table_row(label, target, None, ""))
        for row, source in measured:
            lines.append(table_row(label, target, row, source))
    for key, measured in found.items():
        for row, source in measured:
            label = row.get("label") or harness.TARGETS.get(key, str(key))
            lines.append(table_row(label, None, row, source))
    loads = [
        f"{d['file']} {d.get('date', '')}: "
        f"{', '.join(f'{v:.1f}' for v in d.get('load_start', []))} at the start, "
        f"{', '.join(f'{v:.1f}' for v in d.get('load_end', []))} at the end"
        for d in documents
    ]
    machines = sorted({d["machine"] for d in documents if d.get("machine")})
    return "\n".join(
        [
            "# Performance",
            "",
            "Speed is measured only by the scripts under `bench/`, never by timed tests. "
            "Each script works in a PostgreSQL database of its own on the server "
            "`DATABASE_URL` names, runs a CPOR path beside the best hand-written SQL for "
            "the same rows or the same visible page, in the same process and database, "
            "alternately (A B A B), and records medians in `bench/results/<name>.json`. "
            "`bench/report.py` builds this page from those files.",
            "",
            "Run everything with `make bench` (every script, then the report), or one "
            "script with `DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpor "
            ".venv/bin/python bench/<script>.py` and then `.venv/bin/python bench/report.py`:",
            "",
            *scripts(),
            "",
            "**How to read it.** The ratio is how many times CPOR is slower than the "
            "baseline: time over time, or the baseline's rate over CPOR's. Figures are per "
            "operation (per claim, page, association, message) unless the unit says "
            "otherwise. Beside each time is the CPU it cost, in ms: this process (`app`, or "
            "the web server's workers) and the PostgreSQL backends serving it (`PG`), read "
            "from /proc. This machine is shared (2 cores, several jobs at once), so wall "
            "times move with its load; CPU per operation and the CPU ratio in brackets move "
            "far less and are the figures to compare between runs. ✓ / ✗ say whether the "
            "ratio meets the issue's bound.",
            "",
            *lines,
            "",
            "Machine: " + ("; ".join(machines) or "not recorded") + ", PostgreSQL on the same "
            "host. Load average (1, 5, 15 min) while each results file was written: "
            + ("; ".join(loads) or "no results yet")
            + ".",
            "",
        ]
    )


def main() -> None:
    documents = load_results(harness.RESULTS)
    PERFORMANCE.write_text(build(documents))
    print(f"Wrote {PERFORMANCE.relative_to(ROOT)} from {len(documents)} results file(s)")


if __name__ == "__main__":
    main()
