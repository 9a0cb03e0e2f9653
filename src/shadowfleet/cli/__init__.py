"""The `shadowfleet` command: a thin shell over the library. Each stage's commands live in their own module."""

from __future__ import annotations

import sys

import click
import typer

from shadowfleet.errors import ShadowfleetError

app = typer.Typer(
    name="shadowfleet",
    help="Evidence of sanctions evasion at sea from raw AIS: ingest, detect, screen, cases, the UN cap ledger, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported here so that each module adds its commands to `app`; one module per stage of the data flow.
    from shadowfleet.cli import (  # noqa: F401
        cases_cmd,
        demo_cmd,
        detect_cmd,
        eval_cmd,
        ingest_cmd,
        query_cmd,
        sanctions_cmd,
        sim_cmd,
    )


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except ShadowfleetError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        # usage errors: unknown option, missing argument, bad value — one line, exit 1
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(1)
    except FileNotFoundError as exc:
        click.echo(f"error: file not found: {exc.filename}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
