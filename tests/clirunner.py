"""The `shadowfleet` command run in this process, as a user would call it, with what it printed and its exit code.

In-process (no interpreter start per call) and usable from fixtures of any scope; the console script itself is
exercised by the few tests that run it as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    out: str
    err: str

    # the names of subprocess.CompletedProcess, so a test reads the same whichever way the command ran
    @property
    def returncode(self) -> int:
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err

    def __iter__(self):  # rc, out, err = run_cli(...)
        return iter((self.code, self.out, self.err))

    def ok(self) -> "Result":
        """The command succeeded (else the assertion shows what it printed)."""
        assert self.code == 0, (self.code, self.err[-2000:])
        return self

    @property
    def error_line(self) -> str:
        """The one `error:` line a user mistake must give (asserts there is exactly that)."""
        assert "Traceback" not in self.err + self.out, self.err
        assert self.code == 1, (self.code, self.err, self.out)
        lines = self.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        return lines[0]


def run_cli(*args: str | Path, cwd: str | Path | None = None, columns: int = 100) -> Result:
    from shadowfleet.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_cols = os.getcwd(), os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(old_cwd)
        if old_cols is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old_cols
    return Result(code, out.getvalue(), err.getvalue())


def assert_one_line_error(r: Result, *needles: str) -> str:
    """The one `error:` line of a failed command, which must mention every needle (case-insensitive)."""
    line = r.error_line
    for n in needles:
        assert n.lower() in line.lower(), line
    return line
