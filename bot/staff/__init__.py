"""The agents' staff chat in Telegram: a forum supergroup with one topic per case."""

from bot.staff.desk import StaffDesk
from bot.staff.pacing import Pacer

__all__ = ["Pacer", "StaffDesk"]
