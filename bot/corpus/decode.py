"""File bytes to text: refuses empty, binary and non-UTF-8 files with a plain reason.

A NUL byte anywhere makes a file binary.  Other control characters (escape sequences, bells,
backspaces) that a text file carries are cleaned: each becomes a space, so offsets into the
text stay those of the file, and nothing quoted can drive a terminal or fake a log line.
"""

from __future__ import annotations

import re

_SNIFF_BYTES = 8192
# Control bytes other than tab, newline, form feed and carriage return.
_CONTROL_BYTES = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x0B, 0x7F}
# The same, as decoded text, plus the C1 controls (U+0080-U+009F), which terminals obey too.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_text(data: bytes) -> str:
    """File bytes to text with \\n newlines; raises ValueError with a plain reason."""
    if not data:
        raise ValueError("empty file")
    sample = data[:_SNIFF_BYTES]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("not UTF-8 text (UTF-16 encoded; save it as UTF-8)")
    if b"\0" in data:
        raise ValueError("binary file (contains NUL bytes)")
    if sum(byte in _CONTROL_BYTES for byte in sample) > len(sample) * 0.05:
        raise ValueError("binary file (mostly control characters, not text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (invalid byte at position {error.start})") from None
    if not text.strip():
        raise ValueError("empty file (only whitespace)")
    text = _CONTROL_CHARS.sub(" ", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")
