"""Command line: `python -m kdcourse fetch | check | profiles | demo | prepare`."""
from __future__ import annotations

import argparse
import sys


def _print_table(rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys))


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m kdcourse` and the `kdcourse` script."""
    parser = argparse.ArgumentParser(prog="python -m kdcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download, verify and cache every asset (idempotent)")
    sub.add_parser("check", help="check packages and cached assets")
    sub.add_parser("profiles", help="list the profiles and their sizes")
    demo = sub.add_parser("demo", help="end to end: teacher, student, distillation, benchmark table")
    demo.add_argument("--profile", default=None, help="smoke, cpu or gpu (default: detected)")
    demo.add_argument("--out", default="demo", help="folder for the saved plot (default: demo/)")
    prep = sub.add_parser("prepare", help="warm the caches of some lessons before class")
    prep.add_argument("--lessons", nargs="+", default=["01", "02", "03", "04", "05", "06"])
    prep.add_argument("--profile", default=None, help="smoke, cpu or gpu (default: detected)")
    args = parser.parse_args(argv)

    from . import assets, profiles
    from .environment import check_environment

    if args.command == "fetch":
        for key, path in assets.fetch_all().items():
            print(f"{key}: {path}")
    elif args.command == "check":
        _print_table(check_environment())
    elif args.command == "profiles":
        _print_table([{k: v for k, v in vars(p).items() if k != "summary"}
                      for p in profiles.PROFILES.values()])
    elif args.command == "demo":
        import os

        import kdcourse
        from .pipeline import run_demo

        profile = kdcourse.setup(seed=0, profile=args.profile)
        check_environment(fetch_assets=True)
        os.makedirs(args.out, exist_ok=True)
        run_demo(profile, plot_path=os.path.join(args.out, f"distillation-{profile.name}.png"))
    elif args.command == "prepare":
        import kdcourse
        from .prepare import prepare

        profile = kdcourse.setup(seed=0, profile=args.profile)
        _print_table(prepare(args.lessons, profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
