"""Errors a user can cause and fix: the CLI prints their message without a traceback."""


class DiscotokError(Exception):
    """Base class: bad input or configuration, reported as one clear message."""


class ConfigError(DiscotokError):
    """A configuration value is unknown, of the wrong type, or out of range."""


class DataError(DiscotokError):
    """An input file is missing, empty, corrupt, or holds arrays of the wrong shape."""


class TrainingDiverged(DiscotokError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(DiscotokError):
    """The run was stopped (Ctrl-C / SIGTERM); a checkpoint was written and the run can resume."""


def check_range(
    field: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raise ConfigError naming `field` and its allowed range when `value` falls outside it."""
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ConfigError(f"{field}={value!r} is out of range; allowed: {left}{lo}, {hi}{right}")


def check_choice(field: str, value: str, choices: list[str] | tuple[str, ...]) -> None:
    """Raise ConfigError listing the valid choices when `value` is not one of them."""
    if value not in choices:
        raise ConfigError(f"{field}={value!r} is not valid; choose one of: {', '.join(choices)}")
