"""The `shadowfleet` command: a thin shell over the library. Each stage's commands live in their own module."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from shadowfleet.errors import ShadowfleetError

app = typer.Typer(
    name="shadowfleet",
    help="Evidence of sanctions evasion at sea from raw AIS: ingest, detect, screen, cases, the UN cap ledger, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        import shadowfleet

        print(shadowfleet.__version__)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the shadowfleet version and exit."
    ),
) -> None:
    """Evidence of sanctions evasion at sea from raw AIS."""


def _register() -> None:
    # Imported here so that each module adds its commands to `app`; one module per stage of the data flow.
    from shadowfleet.cli import (  # noqa: F401
        cases_cmd,
        demo_cmd,
        detect_cmd,
        eval_cmd,
        imagery_cmd,
        ingest_cmd,
        live_cmd,
        query_cmd,
        sanctions_cmd,
        serve_cmd,
        sim_cmd,
    )


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        rc = app(args=argv, standalone_mode=False)
    except ShadowfleetError as exc:
        _fail(str(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted")
    except TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # `shadowfleet` or `shadowfleet lists` alone: the help just printed is the answer
        # usage errors: unknown option, missing argument, bad value — one line, exit 1
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(" ".join(msg.split()))
    except FileNotFoundError as exc:
        _fail(f"file not found: {exc.filename}")
    except OSError as exc:
        # a path of the wrong kind (a file where a folder is wanted or the reverse), no permission, a full disk:
        # the user's to fix, so one line naming the path rather than a traceback
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{(exc.strerror or str(exc)).lower()}{where}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(rc if isinstance(rc, int) else 0)


def _fail(message: str) -> None:
    from shadowfleet.output import printable

    # one line whatever the message quotes (a file name or a list entry may hold newlines or escape sequences)
    print(f"error: {printable(message, one_line=True)}", file=sys.stderr)
    sys.exit(1)
