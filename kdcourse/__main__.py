"""Command line: `python -m kdcourse fetch | check | profiles | demo | prepare`."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

WIDTH = 100  # the longest line `profiles` prints
CELL = 24  # the widest value shown in the profiles table (longer ones are cut with "…")


def _print_table(rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys))


def _version() -> str:
    """The installed distribution's version (importlib.metadata), else the package's own."""
    from importlib import metadata

    try:
        return metadata.version("kdcourse")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        from . import __version__

        return __version__


def _cell(value) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def _print_profiles(profiles: dict) -> None:
    """One row per field, one column per profile, then each profile's summary; at most WIDTH columns."""
    names = list(profiles)
    fields = [k for k in vars(profiles[names[0]]) if k not in ("name", "summary")]
    rows = [["field", *names]] + [[k, *(_cell(getattr(profiles[n], k)) for n in names)] for k in fields]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print()
    for n in names:
        print(textwrap.fill(f"{n}: {profiles[n].summary}", WIDTH, subsequent_indent="  "))


def _lesson(value: str) -> str:
    """argparse type of --lessons: '3' -> '03'; unknown lessons refused with the valid list."""
    from .lessons.warm import LESSON_CACHES

    key = value.strip().zfill(2)
    if key not in LESSON_CACHES:
        raise argparse.ArgumentTypeError(f"unknown lesson {value!r} (choose from {', '.join(LESSON_CACHES)})")
    return key


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m kdcourse` and the `kdcourse` script."""
    from . import profiles

    names = list(profiles.PROFILES)
    parser = argparse.ArgumentParser(prog="python -m kdcourse", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kdcourse {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download, verify and cache every asset (idempotent)")
    sub.add_parser("check", help="check packages and cached assets")
    sub.add_parser("profiles", help="list the profiles and their sizes")
    demo = sub.add_parser("demo", help="end to end: teacher, student, distillation, benchmark table")
    demo.add_argument(
        "--profile",
        default=None,
        choices=names,
        help=f"{', '.join(names)} (default: ${profiles.ENV_VAR}, else detected)",
    )
    demo.add_argument("--out", default="demo", help="folder for the saved plot (default: demo/)")
    prep = sub.add_parser("prepare", help="warm the caches of some lessons before class")
    prep.add_argument("--lessons", nargs="+", type=_lesson, help="default: every lesson that reads a cache")
    prep.add_argument(
        "--profile",
        default=None,
        choices=names,
        help=f"{', '.join(names)} (default: ${profiles.ENV_VAR}, else detected)",
    )
    args = parser.parse_args(argv)

    env = os.environ.get(profiles.ENV_VAR, "").strip()
    if env and env.lower() not in profiles.PROFILES:
        parser.error(f"{profiles.ENV_VAR}={env!r} is not a profile (choose from {', '.join(names)})")
    profile = None
    if args.command in ("demo", "prepare"):
        try:  # e.g. the gpu profile on a machine without CUDA: a usage error, not a traceback
            profile = profiles.get_profile(args.profile)
        except ValueError as err:
            (demo if args.command == "demo" else prep).error(str(err))

    try:
        return _run(args, profile)
    except (RuntimeError, ValueError, OSError) as err:  # the course's errors name the value and the fix
        if os.environ.get("KDCOURSE_DEBUG"):
            raise
        print(f"kdcourse {args.command}: {err}\n(set KDCOURSE_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1


def _run(args, profile) -> int:
    """Run the parsed command (main turns its errors into one message)."""
    from . import assets, profiles
    from .environment import check_environment

    if args.command == "fetch":
        for key, path in assets.fetch_all().items():
            print(f"{key}: {path}")
    elif args.command == "check":
        _print_table(check_environment())
    elif args.command == "profiles":
        _print_profiles(profiles.PROFILES)
    elif args.command == "demo":
        import kdcourse

        from .lessons.l04 import run_demo

        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise ValueError(f"--out {args.out} is a file; give a folder for the demo's figure (e.g. --out demo)")
        profile = kdcourse.setup(seed=0, profile=profile)
        check_environment(fetch_assets=True)
        os.makedirs(args.out, exist_ok=True)
        run_demo(profile, plot_path=os.path.join(args.out, f"distillation-{profile.name}.png"))
    elif args.command == "prepare":
        import kdcourse

        from .lessons.warm import LESSON_CACHES, warm

        profile = kdcourse.setup(seed=0, profile=profile)
        _print_table(warm(args.lessons or [n for n, builds in LESSON_CACHES.items() if builds], profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
