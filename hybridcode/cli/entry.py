"""The `hc` entry point: answers --version before importing the CLI framework."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run hc; `--version` and a clean `fix --staged` skip importing typer and rich."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from hybridcode import __version__

        print(f"hc {__version__}")
        return
    if args == ["fix", "--staged"] and _clean_commit():
        return
    from hybridcode.cli.app import main as run

    run(argv)


def _clean_commit() -> bool:
    """True when everything staged parses: the hook's common case, answered early."""
    import os
    from pathlib import Path

    from hybridcode.cli.hook_fast import clean_commit

    return clean_commit(Path.cwd(), os.environ)
