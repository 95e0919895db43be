"""The `hc` entry point: answers --version before importing the CLI framework."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run hc; `hc --version` alone skips importing typer and rich."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from hybridcode import __version__

        print(f"hc {__version__}")
        return
    from hybridcode.cli.app import main as run

    run(argv)
