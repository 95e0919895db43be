"""What the installed pre-commit hook runs: `hc fix --staged`, with a fast clean path.

A clean commit is answered after parsing alone, before typer, rich or any use
case beyond parsing is imported (about a third of hc's start-up time). Anything
else (a broken, unreadable or unparsable staged file, a config error, a git
failure) runs the full `hc fix --staged`, which reports it properly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def main() -> None:
    """Run `hc fix --staged ARGS`; exit 0 at once when every staged file is clean."""
    args = sys.argv[1:]
    try:
        clean = not args and clean_commit(Path.cwd(), os.environ)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
    if clean:
        sys.exit(0)
    from hybridcode.cli.entry import main as full

    full(["fix", "--staged", *args])


def clean_commit(cwd: Path, env: Mapping[str, str]) -> bool:
    """Say OK and return True when all staged source parses; False to run in full."""
    from hybridcode.config import load_settings
    from hybridcode.context.git import find_repo
    from hybridcode.errors import HcError
    from hybridcode.staged import StagedRequest, count_clean, git_env

    try:
        root = find_repo(cwd)
        if root is None:
            return False
        settings = load_settings(cwd, env).fix
        request = StagedRequest(root, git_env(env, cwd), True, settings)
        count = count_clean(request)
    except (HcError, OSError):
        return False  # the full command reports it
    if count is None:
        return False
    sys.stderr.write(ok_message(count) + "\n")
    return True


def ok_message(count: int) -> str:
    """The line a clean `hc fix --staged` ends with."""
    checked = f"{count} staged file{'s' * (count != 1)} checked"
    return f"hc: OK: {checked if count else 'no staged source files'}"


if __name__ == "__main__":
    main()
