"""Measure what a lesson's first run adds: each cache build's seconds from an empty cache, and again once cached.

Writes lessons/first_run.json; tools/lesson_table.py adds to a lesson's time, for each build that
kdcourse/lessons/warm.py's LESSON_CACHES lists for it, the first time less the second (what a rerun still pays,
loading the cache, is in the stored run already). Two ways to fill it, both merging into the file:

    python tools/first_run.py --lessons 01 03 --profile cpu --cache /tmp/empty-cache
        runs `kdcourse prepare`'s own code (kdcourse.lessons.warm.warm) twice in this process with $KDCOURSE_CACHE
        set to a new, empty folder (the assets are linked into it from the usual cache first and are not timed);

    python tools/first_run.py --from-log cold.log --warm-log again.log --command "python -m kdcourse prepare ..."
        reads the "lesson NN: <cache> ready (S s)" lines that `python -m kdcourse prepare` printed on this machine,
        first with the caches empty, then run again at once, naming the command that printed them; with
        --builds NAME ..., only those builds are recorded (the log's other builds found their caches copied in
        from an earlier measurement, so their first-run seconds there are not a first run's).

Run it with nothing else busy on the machine (under the project's CPU lock): the seconds are wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lesson_table import FIRST_RUN, lesson_caches  # noqa: E402

ABOUT = (
    "Seconds each cache build took from an empty cache ('seconds') and again once cached ('warm seconds'), timed by "
    "kdcourse.lessons.warm (the code `python -m kdcourse prepare` runs), keyed by its function in "
    "kdcourse/lessons/warm.py. tools/lesson_table.py adds seconds - warm seconds of each build LESSON_CACHES lists "
    "for a lesson to that lesson's first-run time. Written by tools/first_run.py."
)
LINE = re.compile(r"^lesson (\d\d): (.+) ready \(([\d.]+) s\)\s*$")


def steps_from_log(text: str, caches: dict[str, list[str]]) -> list[dict]:
    """The builds a prepare log reports, each named by its function: warm() runs each lesson's builds in order,
    skipping those an earlier lesson ran, and prints one line per build it runs."""
    done, pending, rows = set(), {}, []
    for line in text.replace("\r", "\n").splitlines():
        found = LINE.match(line.strip())
        if not found:
            continue
        lesson, what, seconds = found.group(1), found.group(2), float(found.group(3))
        if lesson not in pending:
            pending[lesson] = [s for s in caches[lesson] if s not in done]
        if not pending[lesson]:
            raise ValueError(f"the log reports more builds for lesson {lesson} than warm.py lists: {line.strip()!r}")
        step = pending[lesson].pop(0)
        done.add(step)
        rows.append({"step": step, "lesson": lesson, "what": what, "seconds": seconds})
    return rows


def measure(lessons: list[str], profile_name: str, cache: Path) -> list[dict]:
    """Run warm() for `lessons` with an empty cache at `cache` (assets linked in from the usual cache)."""
    from kdcourse import cache as course_cache

    source = course_cache.cache_dir()
    if cache.exists() and any(cache.iterdir()):
        raise SystemExit(f"{cache} is not empty: a first run needs an empty cache")
    cache.mkdir(parents=True, exist_ok=True)
    for asset in source.iterdir():  # the assets (<key>-<version> folders): fetched once, not part of a first run
        if asset.is_dir() and re.fullmatch(r"[a-z0-9_]+-\d+(\.\d+)*", asset.name):
            (cache / asset.name).symlink_to(asset.resolve(), target_is_directory=True)
    os.environ[course_cache.CACHE_ENV] = str(cache)

    import kdcourse
    from kdcourse.lessons import warm

    profile = kdcourse.setup(seed=0, profile=profile_name)
    caches = lesson_caches()
    cold = warm.warm(lessons, profile, seed=0)
    again = warm.warm(lessons, profile, seed=0)  # the same calls with the cache built: what a rerun pays
    names = [s for lesson in warm.normalise_lessons(lessons) for s in caches[lesson]]
    ordered = list(dict.fromkeys(names))
    return [
        {"step": step, "lesson": row["lesson"], "what": row["cache"], "seconds": row["seconds"], "warm": w["seconds"]}
        for row, w, step in zip(cold, again, ordered)
    ]


def with_warm(rows: list[dict], warm_rows: list[dict]) -> list[dict]:
    """`rows` (a first run's builds) with the seconds the same builds took again once cached (`warm`)."""
    again = {row["step"]: row["seconds"] for row in warm_rows}
    missing = [row["step"] for row in rows if row["step"] not in again]
    if missing:
        raise ValueError(f"the warm log has no line for {missing}: run the same prepare command again")
    return [{**row, "warm": again[row["step"]]} for row in rows]


def only(rows: list[dict], builds: list[str]) -> list[dict]:
    """The rows of `builds` alone; a name the log does not report is refused with the names it does."""
    unknown = sorted(set(builds) - {row["step"] for row in rows})
    if unknown:
        raise ValueError(f"the log reports no build {', '.join(unknown)}; it has {', '.join(r['step'] for r in rows)}")
    return [row for row in rows if row["step"] in builds]


def merge(rows: list[dict], command: str, profile: str, load: float | None = None, path: Path = FIRST_RUN) -> dict:
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data["about"] = ABOUT
    data.setdefault("builds", {})
    for row in rows:
        data["builds"][row["step"]] = {
            "what": row["what"],
            "first needed by lesson": row["lesson"],
            "seconds": row["seconds"],
            "warm seconds": row["warm"],
            "profile": profile,
            "cpus": os.cpu_count(),
            "load average at start": load,  # other work on the machine inflates the seconds
            "measured": date.today().isoformat(),
            "command": command,
        }
    data["builds"] = dict(sorted(data["builds"].items()))
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--lessons", nargs="+", metavar="NN", help="measure these lessons' cache builds now")
    source.add_argument("--from-log", type=Path, metavar="LOG", help="read a `kdcourse prepare` log instead")
    parser.add_argument("--warm-log", type=Path, help="with --from-log: the same command's log run again at once")
    parser.add_argument("--command", help="with --from-log: the command that printed the logs (recorded)")
    parser.add_argument(
        "--builds",
        nargs="+",
        metavar="NAME",
        help="with --from-log: record only these builds (e.g. _deploy_lesson), when the caches of the "
        "others were copied in beforehand, so the log's first run was cold for these alone",
    )
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--cache", type=Path, help="with --lessons: a new, empty folder for the cache")
    args = parser.parse_args(argv)
    load = None
    if args.from_log:
        if not args.command or not args.warm_log:
            parser.error("--from-log needs --warm-log and --command: the command that printed both logs")
        read = [path.read_text(encoding="utf-8", errors="replace") for path in (args.from_log, args.warm_log)]
        rows = with_warm(*(steps_from_log(text, lesson_caches()) for text in read))
        if args.builds:
            rows = only(rows, args.builds)
        command = args.command
    else:
        if not args.cache:
            parser.error("--lessons needs --cache: a new, empty folder (a first run starts from an empty cache)")
        lessons = [n.zfill(2) for n in args.lessons]
        load = round(os.getloadavg()[0], 2)
        if load > 0.5:
            print(f"note: load average {load}: other work on this machine will inflate the seconds", file=sys.stderr)
        rows = measure(lessons, args.profile, args.cache)
        command = f"python tools/first_run.py --lessons {' '.join(lessons)} --profile {args.profile} --cache <empty>"
    merge(rows, command, args.profile, load)
    for row in rows:
        print(f"lesson {row['lesson']}: {row['step']} ({row['what']}): {row['seconds']} s, again {row['warm']} s")
    print(f"written: {FIRST_RUN.relative_to(FIRST_RUN.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
