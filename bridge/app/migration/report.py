"""The migration report as text, Markdown, JSON or one self-contained HTML page."""
from __future__ import annotations

import html
import json

from bridge.app.migration.check import CARRIED, DIFFERENT, NOT_CARRIED, UNKNOWN, Report

FORMATS = ("text", "markdown", "json", "html")
COLOURS = {CARRIED: "#2e7d32", DIFFERENT: "#b26a00", NOT_CARRIED: "#c62828", UNKNOWN: "#6a1b9a"}
CLASSES = {CARRIED: "carried", DIFFERENT: "different", NOT_CARRIED: "not-carried", UNKNOWN: "unknown"}
HEADINGS = ("Form", "Kind", "Count", "First seen", "On the target", "Status", "Detail")


def render(report: Report, fmt: str) -> str:
    return {"text": _text, "markdown": _markdown, "json": _json, "html": _html}[fmt](report)


def summary(report: Report) -> list[str]:
    counts = ", ".join(f"{report.count(s)} {s}" for s in (CARRIED, DIFFERENT, NOT_CARRIED, UNKNOWN))
    return [f"{report.source} firmware on a {report.target} module: {len(report.findings)} forms ({counts}).",
            report.verdict]


def _cells(report: Report) -> list[tuple[str, ...]]:
    return [(f.seen.form, f.seen.kind, str(f.seen.count), f.seen.first_at, f.becomes, f.status, f.detail)
            for f in report.findings]


def _text(report: Report) -> str:
    lines = summary(report) + [""]
    for form, kind, count, first, becomes, status, detail in _cells(report):
        lines.append(f"[{status}] {form}  ({kind}, {count}x, first at {first})")
        lines.append(f"    on {report.target}: {becomes}")
        if status != CARRIED:
            lines.append(f"    why: {detail}")
    return "\n".join(lines) + "\n"


def _markdown(report: Report) -> str:
    lines = [f"**{line}**" if i == 1 else line for i, line in enumerate(summary(report))] + [""]
    lines += ["| " + " | ".join(HEADINGS) + " |", "|" + "---|" * len(HEADINGS)]
    for cells in _cells(report):
        shown = [f"`{cells[0]}`", *cells[1:]]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in shown) + " |")
    return "\n".join(lines) + "\n"


def _json(report: Report) -> str:
    rows = [dict(zip(("form", "kind", "count", "first_seen", "on_target", "status", "detail"), cells))
            for cells in _cells(report)]
    for row in rows:
        row["count"] = int(row["count"])
    head = {"source": report.source, "target": report.target, "forms": len(rows),
            "counts": {s: report.count(s) for s in (CARRIED, DIFFERENT, NOT_CARRIED, UNKNOWN)},
            "verdict": report.verdict}
    return json.dumps({**head, "rows": rows}, indent=2, ensure_ascii=False) + "\n"


def _html(report: Report) -> str:
    style = "".join(f".{CLASSES[s]} td.status{{background:{c};color:#fff}}" for s, c in COLOURS.items())
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADINGS)
    body = "".join(
        f'<tr class="{CLASSES[cells[5]]}">' + "".join(
            f'<td class="{"status" if i == 5 else "form" if i == 0 else ""}">{html.escape(c)}</td>'
            for i, c in enumerate(cells)) + "</tr>"
        for cells in _cells(report))
    first, verdict = summary(report)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>atbridge migration report</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}td.form{font-family:monospace}"
            f"{style}</style></head><body><h1>Migration report: {html.escape(report.source)} → "
            f"{html.escape(report.target)}</h1><p id='summary'>{html.escape(first)}</p>"
            f"<p id='verdict'><strong>{html.escape(verdict)}</strong></p>"
            f"<table id='forms'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>\n")
