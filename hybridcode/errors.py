"""The error hierarchy: every error a user can act on carries its exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3


class HcError(Exception):
    """An error shown to the user as one line on stderr."""

    exit_code = EXIT_RUNTIME

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InputError(HcError):
    """Bad input or usage: missing file, bad position, unsupported encoding."""

    exit_code = EXIT_INPUT


class ConfigError(InputError):
    """A configuration file or value that cannot be used."""


class ModelError(HcError):
    """The model is missing, broken, or cannot be loaded."""


class ModelFileError(ModelError):
    """A model file that is not a usable GGUF."""


class ContextOverflowError(ModelError):
    """A required prompt does not fit the model's context window."""


class ModelOutputError(HcError):
    """The model answered, but nothing it said could be used."""


class GitError(HcError):
    """A git operation failed."""


class ApiError(HcError):
    """The remote API failed after bounded retries."""


class ConsentRequired(InputError):
    """Sending needs consent and there is no terminal to ask on."""
