"""What every benchmark script records beside its timings (they import it as a sibling module).

Results are kept per CPU kind. A speed-up is a property of the CPU as much as of the model (int8
matrix products run on VNNI or AMX instructions where the CPU has them, and each runtime ships its own
kernels for each), so `write_results` stores, in `<name>.json`, one entry per CPU kind
(kdcourse.benchmark.cpu_record's `kind`) and replaces only the entry of the CPU it runs on; `<name>.md`
has one section per CPU, the targets judged on each, and (where the script names them) the speed-up
columns side by side with their spread. Read an entry with kdcourse.benchmark.results_for(name).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
from pathlib import Path

from kdcourse.benchmark import RESULTS_LAYOUT, UNRECORDED, as_per_cpu, cpu_record, cpu_summary

ABOUT = (
    "One entry per CPU kind in by_cpu (kdcourse.benchmark.cpu_record's kind), each the script's result "
    "plus `cpu` (the cpu_record) and `date`; a run replaces only its own CPU kind's entry. The other "
    "top-level fields repeat the entry of `latest` for readers written before results were kept per CPU. "
    "Read with kdcourse.benchmark.results_for(name) (this CPU's entry, else the latest) or results_by_cpu."
)
_SECTION = re.compile(r"<!-- cpu-section: (.*?) -->\n(.*?)<!-- /cpu-section -->\n?", re.S)


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages, rounded (empty where the OS has none): timings under load
    are inflated, so each result file says how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def header(threads: int | None = None, gpu: bool = False) -> dict:
    """Print the CPU line every benchmark starts with and return its cpu_record (put it in the result)."""
    record = cpu_record(threads=threads, gpu=gpu)
    print(cpu_summary(record), flush=True)
    return record


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _demote(markdown: str, levels: int = 2) -> str:
    """The script's report as a section: its headings `levels` deeper."""
    return re.sub(r"^(#+) ", lambda m: "#" * min(6, len(m.group(1)) + levels) + " ", markdown, flags=re.M)


def _section_title(entry: dict) -> str:
    cpu = entry["cpu"]
    when = f"measured {entry['date']}" if entry.get("date") else "date not recorded"
    lines = [f"## CPU: {cpu['kind']}", "", f"{when}, profile {entry.get('profile', '?')}.", ""]
    lines += [cpu["note"][0].upper() + cpu["note"][1:] + "." if cpu.get("note") else f"{cpu_summary(cpu)}.", ""]
    return "\n".join(lines)


def targets_of(entry: dict) -> dict[str, tuple[bool, object]]:
    """name -> (met, measured) for each target of an entry (a dict with `met` under `targets`)."""
    out = {}
    for name, t in (entry.get("targets") or {}).items():
        if isinstance(t, dict) and "met" in t:
            out[name] = (bool(t["met"]), t.get("measured", t.get("value")))
    return out


def _number(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def across_cpus(by_cpu: dict[str, dict], compare=()) -> str:
    """Markdown comparing the CPU kinds: each speed-up column side by side with its spread (max / min
    across CPUs), then every target's verdict per CPU and a line for each target met on some CPUs only.
    `compare`: (title, rows key, column) triples, e.g. ("speed-up, batch 1", "rows", "speedup_batch1")."""
    kinds = list(by_cpu)
    lines = []
    for title, key, column in compare:
        names = []
        for entry in by_cpu.values():
            names += [r["name"] for r in entry.get(key) or [] if r["name"] not in names and column in r]
        if not names:
            continue
        lines += [f"## {title}, per CPU", "", "| model | " + " | ".join(kinds) + " | spread (max / min) |"]
        lines.append("|---|" + "---:|" * (len(kinds) + 1))
        for name in names:
            values = [next((r[column] for r in e.get(key) or [] if r["name"] == name), None) for e in by_cpu.values()]
            have = [v for v in values if isinstance(v, (int, float))]
            spread = (
                f"{min(have):.2f}–{max(have):.2f}x ({max(have) / min(have):.2f})"
                if len(have) > 1 and min(have) > 0
                else "one CPU"
            )
            cells = " | ".join("—" if v is None else f"{v:.2f}x" for v in values)
            lines.append(f"| {name} | {cells} | {spread} |")
        lines.append("")
    targets = {kind: targets_of(entry) for kind, entry in by_cpu.items()}
    names = list(dict.fromkeys(n for t in targets.values() for n in t))
    if names:
        lines += ["## Targets, per CPU", "", "| target | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        for name in names:
            cells = [
                f"{'met' if t[name][0] else 'NOT met'} ({_number(t[name][1])})" if name in t else "—"
                for t in targets.values()
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        split = []
        for name in names:
            met = [k for k, t in targets.items() if name in t and t[name][0]]
            missed = [k for k, t in targets.items() if name in t and not t[name][0]]
            if met and missed:
                split.append(f"- {name}: met on {', '.join(met)}; NOT met on {', '.join(missed)}.")
        if split:
            lines += ["Targets whose verdict depends on the CPU:", "", *split, ""]
        elif len(kinds) > 1:
            lines += ["Every target has the same verdict on every CPU measured.", ""]
    return "\n".join(lines)


def _sections(markdown_file: Path) -> dict[str, str]:
    """kind -> section (title and report) of an existing report; {"": text} for a report from before CPU
    records (no sections)."""
    if not markdown_file.is_file():
        return {}
    text = markdown_file.read_text()
    found = {kind: body for kind, body in _SECTION.findall(text)}
    return found if found or not text.strip() else {"": text}


def _load(out: Path, name: str) -> tuple[dict[str, dict], dict[str, str]]:
    """The entries (kind -> entry) and report sections (kind -> markdown) stored in `out` for `name`; a
    result from before CPU records becomes the unrecorded entry, its report that entry's section."""
    json_file, md_file = out / f"{name}.json", out / f"{name}.md"
    old = json.loads(json_file.read_text()) if json_file.is_file() else None
    by_cpu = dict(as_per_cpu(old)["by_cpu"]) if old is not None else {}
    sections = _sections(md_file)
    legacy_report = sections.pop("", None)
    if old is not None and old.get("layout") != RESULTS_LAYOUT and legacy_report is not None:
        sections[UNRECORDED] = _section_title(by_cpu[UNRECORDED]) + "\n" + _demote(legacy_report)
    return by_cpu, sections


def _save(out: Path, name: str, by_cpu: dict[str, dict], sections: dict[str, str], compare) -> str:
    """Write `name`.json (per-CPU layout, the newest entry mirrored at the top level) and `name`.md;
    return the comparison across CPUs."""
    latest = next(reversed(by_cpu))
    clash = {"layout", "about", "latest", "by_cpu"} & set(by_cpu[latest])
    if clash:
        raise ValueError(f"a result may not use the results file's own keys: {sorted(clash)}")
    stored = {"layout": RESULTS_LAYOUT, "about": ABOUT, "latest": latest, **by_cpu[latest], "by_cpu": by_cpu}
    _atomic_write(out / f"{name}.json", json.dumps(stored, indent=2, ensure_ascii=False, default=str) + "\n")
    body = []
    for k, e in by_cpu.items():
        section = sections.get(k) or (
            _section_title(e) + "\n(no report stored for this CPU; its numbers are in the .json file)\n"
        )
        body.append(f"<!-- cpu-section: {k} -->\n{section.rstrip()}\n<!-- /cpu-section -->\n")
    comparison = across_cpus(by_cpu, compare)
    report = "\n".join(
        [
            f"# {name}: results per CPU kind",
            "",
            f"{len(by_cpu)} CPU kind(s) measured, newest last. Timings and speed-ups depend on the CPU (int8 "
            "runs on VNNI or AMX instructions where the CPU has them, and each runtime ships its own kernels "
            f"for each), so each CPU keeps its own entry in `{name}.json`; a run replaces only its CPU's.",
            "",
            *([comparison] if comparison else []),
            *body,
        ]
    )
    _atomic_write(out / f"{name}.md", report)
    return comparison


def migrate(out, name: str, compare=()) -> None:
    """Rewrite a results file from before CPU records (and its report) in the per-CPU layout, adding no
    entry: the stored result becomes the entry of kind "unrecorded (before CPU records)"."""
    out = Path(out)
    by_cpu, sections = _load(out, name)
    if by_cpu:
        _save(out, name, by_cpu, sections, compare)


def write_results(result: dict, out, name: str, markdown: str, compare=(), kind: str | None = None) -> dict:
    """Store `result` as the entry of this CPU kind in `out`/`name`.json and its report `markdown` as
    that CPU's section of `name`.md (other CPU kinds' entries and sections are kept), print the report
    and return the entry.

    The entry is the result plus `cpu` (result["cpu"] if the script recorded it, else cpu_record with the
    result's `threads`) and `date`; `kind` overrides the CPU kind (e.g. a GPU check). A file written
    before CPU records becomes the entry of kind "unrecorded (before CPU records)". `compare` names
    speed-up columns to set side by side across CPUs (see across_cpus)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cpu = result.get("cpu") or cpu_record(threads=result.get("threads"))
    kind = " ".join((kind or cpu["kind"]).split()).replace("-->", "->")  # one line, safe in a comment
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    entry = {"cpu": {**cpu, "kind": kind}, "date": date, **{k: v for k, v in result.items() if k != "cpu"}}
    by_cpu, sections = _load(out, name)
    by_cpu.pop(kind, None)  # re-inserted last: the entries run from the oldest write to the newest
    by_cpu[kind] = entry
    sections[kind] = _section_title(entry) + "\n" + _demote(markdown)
    comparison = _save(out, name, by_cpu, sections, compare)
    print(sections[kind] + ("\n" + comparison if len(by_cpu) > 1 else ""))
    return entry
