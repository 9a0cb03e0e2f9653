"""`make bench`: run every bench/bench_*.py in turn; each prints its figures and updates bench/results.md.

Benchmarks compare shadowfleet with a named peer on the same data in the same run (ratios, not absolute
times), because absolute seconds on a shared 2-core machine mean little.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        try:
            module = runpy.run_path(str(script), run_name="bench")
            module["main"]()
        except (Exception, SystemExit) as exc:  # one broken benchmark must not hide the others' figures
            print(f"{script.stem} failed: {exc!r}", file=sys.stderr)
            failed.append(script.stem)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
