"""Plain text for the read-only commands: tables (`nightfeed feed`, `nightfeed audit-queue`) and the
one-line note on taken-down videos (`nightfeed rollback`, a refused publish)."""

from __future__ import annotations

import re

# C0 and C1 control characters and DEL: printed raw, an id holding ESC [ ... or ESC ] ... would
# move the cursor, recolour or retitle the reader's terminal.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(value) -> str:
    """str(value) with every control character written as its escape (\\x1b, \\n, ...)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def format_table(title: str, rows: list[dict], cols: tuple[str, ...], floats: dict[str, str]) -> str:
    """Rows as a plain text table under a title; `floats` maps a column to its format."""
    cells = [
        [
            format(r[c], floats[c])
            if c in floats and r[c] is not None
            else printable("; ".join(r[c]))
            if isinstance(r[c], list)
            else printable(r[c])
            for c in cols
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def format_audit_queue(queue: dict) -> str:
    cols = ("rank", "item_id", "risk_score", "expected_views", "priority", "held", "reasons")
    shown = len(queue["items"])
    title = f"audit queue of {queue['region']} (ds {queue['ds']}): top {shown} of {queue['queued']} videos"
    return format_table(
        title, queue["items"], cols, {"risk_score": ".4f", "expected_views": ".1f", "priority": ".3f"}
    )


def format_feed(feed: dict) -> str:
    """A user's feed as a plain text table."""
    live = "live " if feed["feeds_table_version"] is not None else ""
    title = (
        f"{live}feed of user {printable(feed['user_id'])} in "
        f"{feed['region']} (ds {feed['ds']}, {len(feed['items'])} items)"
    )
    return format_table(
        title, feed["items"], ("rank", "item_id", "score", "source", "model_version"), {"score": ".4f"}
    )


def taken_down_note(ds: str, taken: dict) -> str:
    """One line on the videos of the feed of ds that reviewers took down since (`taken`: what
    `readonly.taken_down_since` returns)."""
    n, slots, some = taken["videos"], taken["feed_slots"], printable(", ".join(taken["item_ids"][:5]))
    videos, slots = f"{n} video{'s' * (n != 1)}", f"{slots} feed slot{'s' * (slots != 1)}"
    return (
        f"the feed of {ds} holds {videos} removed or restricted since ({slots}, e.g. {some}); "
        f"readers get {'them' if n != 1 else 'it'} until the next publish"
    )
