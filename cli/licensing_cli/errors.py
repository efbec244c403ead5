"""Exit codes scripts can rely on, and every failure explained in plain words."""

from __future__ import annotations

from enum import IntEnum

from licensing_cli.client import ApiError, StepUpRequired, Unreachable


class Exit(IntEnum):
    """The exit codes of ``licensing`` (documented in ``licensing --help``)."""

    OK = 0
    REFUSED = 1  #: the API refused the request (4xx other than 401/403)
    USAGE = 2  #: bad arguments, configuration or input file
    AUTH = 3  #: not logged in, expired login, 401 or 403
    SERVER = 4  #: 5xx, or the API (or Cognito) could not be reached
    STEP_UP = 5  #: the action needs a stronger, more recent login
    DRIFT = 6  #: ``licenses audit``: the key's claims differ from the database
    BUG = 70  #: an unexpected error in the CLI itself (EX_SOFTWARE)


EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  the API refused the request (4xx: not found, conflict, validation...)
  2  usage error: bad arguments, configuration or input file
  3  authentication error: not logged in, expired login, 401 or 403
  4  server error (5xx) or the API/Cognito could not be reached
  5  step-up required: the action needs a recent MFA login (licensing login --mfa;
     with --local: the same command with --mfa)
  6  licenses audit found drift: the key's claims differ from the database
     (an encrypted key, which cannot be compared, is not drift: 0)
 70  a bug in this CLI (with a traceback): please report it"""


class CliError(Exception):
    """A failure of the CLI itself, with its exit code and an optional hint."""

    exit_code = Exit.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(CliError):
    exit_code = Exit.USAGE


class AuthError(CliError):
    exit_code = Exit.AUTH


class ServiceUnavailable(CliError):
    exit_code = Exit.SERVER


def exit_code(error: BaseException) -> Exit:
    """The exit code of any error the CLI reports."""
    if isinstance(error, CliError):
        return error.exit_code
    if isinstance(error, StepUpRequired):
        return Exit.STEP_UP
    if isinstance(error, ApiError):
        if error.status in (401, 403):
            return Exit.AUTH
        return Exit.SERVER if error.status >= 500 else Exit.REFUSED
    if isinstance(error, Unreachable):
        return Exit.SERVER
    return Exit.SERVER


def duration(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


_MFA_ACR = ("mfa", "phr", "phrh", "multi-factor", "aal2", "aal3")


#: How to get a stronger login, unless the caller knows better (``--local``).
LOGIN_WITH_MFA = "run `licensing login --mfa` and try again"


def step_up_remedy(*, local: bool, mfa: bool) -> str:
    """What to do about a step-up challenge. ``--local`` mints its own token, so there
    the answer is ``--mfa``, not ``licensing login --mfa`` (the local pool has no MFA)."""
    if not local:
        return LOGIN_WITH_MFA
    if mfa:
        return "--mfa was given, so the server wants more than a fresh MFA login (see below)"
    return "run the same command with --mfa and try again"


def explain_step_up(
    acr_values: list[str], max_age: int | None, remedy: str = LOGIN_WITH_MFA
) -> str:
    """Plain words for an RFC 9470 challenge, e.g. "this action needs a stronger login
    (MFA) within the last 5 minutes; run `licensing login --mfa` and try again"; ``remedy``
    is the part after the semicolon."""
    strength = "a stronger login (MFA)"
    if acr_values and not any(marker in v.lower() for v in acr_values for marker in _MFA_ACR):
        strength = f"a stronger login (authentication level {' or '.join(acr_values)})"
    if max_age is None:
        when = ""
    elif max_age == 0:
        when = " made just now"
    else:
        when = f" within the last {duration(max_age)}"
    return f"this action needs {strength}{when}; {remedy}"


def describe(error: BaseException, step_up: str = LOGIN_WITH_MFA) -> tuple[str, str | None]:
    """``(message, hint)`` for an error, as printed on stderr; ``step_up`` is what to do
    about a step-up challenge (see :func:`step_up_remedy`)."""
    if isinstance(error, StepUpRequired):
        message = explain_step_up(error.acr_values, error.max_age, step_up)
        return message, f"server said: {error.detail}"
    if isinstance(error, ApiError):
        message = f"{error.detail} ({error.code}, HTTP {error.status})"
        for item in error.field_errors:
            message += f"\n  - {item.get('path', '?')}: {item.get('message', '')}"
        return message, _api_hint(error)
    if isinstance(error, Unreachable):
        return f"cannot reach the API: {error}", "check --url / LICENSING_URL and your network"
    if isinstance(error, CliError):
        return str(error), error.hint
    return f"{type(error).__name__}: {error}", None


def _api_hint(error: ApiError) -> str | None:
    if error.status == 401:
        return "your login is missing, expired or not accepted here: run `licensing login`"
    if error.status == 403:
        return "you are logged in, but this account may not do that (admins are in license-admins)"
    if error.code == "ROUTE_NOT_FOUND":
        return "this server has no such endpoint yet: it is older than this CLI"
    if error.status >= 500:
        return "the server failed; retrying later may help"
    return None
