"""`helpdesk chat`, `run` and `kakao`: the channels, each imported only when it is started."""

from __future__ import annotations

import argparse

from bot.settings import Settings


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk chat`: the conversation in this terminal."""
    from bot.console import run_console

    return run_console(settings, user=args.user, customer_id=args.customer)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk run`: the Telegram bot."""
    from bot.telegram import run_telegram

    return run_telegram(settings, args)


def cmd_kakao(args: argparse.Namespace, settings: Settings) -> int:
    """`helpdesk kakao`: the KakaoTalk skill server."""
    from bot.kakao.server import run_kakao

    return run_kakao(settings, args)
