"""The case screen: one module per tab, put together in :mod:`app.ui.case_view.page`."""

from app.ui.case_view.base import HISTORY_ENTRIES
from app.ui.case_view.page import CasePage

__all__ = ["HISTORY_ENTRIES", "CasePage"]
