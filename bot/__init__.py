"""Dialogue engine, channels (Telegram, terminal) and the `helpdesk` command."""
