"""What can go wrong with a journal, each error saying which file (or database) and what to do."""

from __future__ import annotations

__all__ = [
    "JournalBusyError",
    "JournalCorruptError",
    "JournalError",
    "JournalInconsistentError",
    "JournalUnreadableError",
    "SchemaTooNewError",
]


class JournalError(Exception):
    """A journal cannot be used as asked. The message names it and says what is recoverable."""


class JournalUnreadableError(JournalError):
    """The journal's file or server cannot be opened or read at all."""


class JournalBusyError(JournalError):
    """Another process is writing the journal (or this run of it)."""


class SchemaTooNewError(JournalError):
    """The journal was written by a newer pengine (a schema version this one does not know)."""


class JournalCorruptError(JournalError):
    """Records or a snapshot fail their checksum, do not decode, or are missing."""


class JournalInconsistentError(JournalError):
    """Replaying the records does not give the positions and cash they say (a bug or an edit)."""
