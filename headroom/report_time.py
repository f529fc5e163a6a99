"""Reading the time bounds users give the report and the CLI (dates, datetimes, epoch seconds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

TimeBound = float | int | datetime | date | str | None


def parse_time(value: TimeBound, *, end_of_day: bool = False) -> float | None:
    """Epoch seconds for ``value``; a bare date means its start (or, with ``end_of_day``, the
    start of the next day, so ``until=2026-11-20`` includes that whole day). Naive times are UTC.
    Raise ValueError naming the accepted forms for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a date or time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return _aware(value).timestamp()
    if isinstance(value, date):
        return _day_bound(value, end_of_day)
    if isinstance(value, str):
        return _parse_text(value.strip(), end_of_day)
    raise ValueError(f"not a date or time: {value!r}")


def _parse_text(text: str, end_of_day: bool) -> float:
    if not text:
        raise ValueError("empty date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+00:00]")
    try:
        if len(text) == 10:
            return _day_bound(date.fromisoformat(text), end_of_day)
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        raise ValueError(
            f"invalid date {text!r}; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+00:00]"
        ) from None


def _day_bound(day: date, end_of_day: bool) -> float:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return (start + timedelta(days=1) if end_of_day else start).timestamp()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_time(epoch: float, *, with_time: bool = True) -> str:
    """A UTC timestamp as the report shows it."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")
