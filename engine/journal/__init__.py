"""Journals: the durable record of a run's event stream."""

from engine.journal.jsonl import JsonlJournal, read_journal

__all__ = ["JsonlJournal", "read_journal"]
