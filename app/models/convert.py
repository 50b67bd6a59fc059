"""Converting between Python values and the text the store keeps."""

from __future__ import annotations

import datetime as dt
import json


def date_text(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def parse_date(value: object) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


def json_list(values: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def parse_list(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(str(value or "[]")))
