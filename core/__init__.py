"""Refund policy, money, calendar and storage for the AlimTalk/SMS helpdesk (no Telegram here)."""
