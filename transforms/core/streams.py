"""Byte streams of input files, for the readers: decompression by suffix with a check of
the end of the stream (a file cut short or with a bad checksum raises, where Beam's own
decompressors end quietly), and lines read in bounded chunks with any failure part-way
reported at its line. Beam-free but for its FileSystems."""
from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from typing import Any, Callable, Iterator, Optional, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_READ_CHUNK_BYTES = 1 << 20
_RAW_CHUNK_BYTES = 1 << 16
#: Errors a file may raise part-way through reading (I/O, decompression, checksums).
_STREAM_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)


class _Decompressing:
    """A read-only stream over ``raw`` through a decompressor object with ``eof`` and
    ``unused_data`` (zstd, deflate): raises EOFError when the input ends inside a frame,
    which the stream readers of these formats don't."""

    def __init__(self, raw, make: Callable[[], Any], name: str):
        self.raw, self.make, self.name = raw, make, name
        self.obj = make()
        self.started = False

    def read(self, _size: int = -1) -> bytes:
        while True:
            chunk = self.raw.read(_RAW_CHUNK_BYTES)
            if not chunk:
                if self.started and not self.obj.eof:
                    raise EOFError(f"{self.name} stream ended before its end-of-stream marker")
                return b""
            out = []
            while chunk:
                if self.obj.eof:  # the next frame/stream
                    self.obj = self.make()
                self.started = True
                out.append(self.obj.decompress(chunk))
                chunk = self.obj.unused_data if self.obj.eof else b""
            data = b"".join(out)
            if data:
                return data

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "_Decompressing":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _zstd():
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def open_input(path: str):
    """``path`` opened for reading, decompressed by its suffix (.gz, .bz2, .xz/.lzma,
    .zst, .deflate), with checks of the end of the stream: a truncated or corrupt
    file raises (EOFError, OSError, zlib/lzma errors) where it stops making sense,
    rather than ending quietly (Beam's own decompressors end without a word)."""
    kind = CompressionTypes.detect_compression_type(path)
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if kind == CompressionTypes.GZIP:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == CompressionTypes.BZIP2:
        return bz2.BZ2File(raw, mode="rb")
    if kind == CompressionTypes.LZMA:
        return lzma.LZMAFile(raw, mode="rb")
    if kind == CompressionTypes.ZSTD:
        return _Decompressing(raw, _zstd, "zstd")
    if kind == CompressionTypes.DEFLATE:
        return _Decompressing(raw, lambda: zlib.decompressobj(zlib.MAX_WBITS), "deflate")
    return raw


def iter_lines(fh, max_bytes: int) -> Iterator[Tuple[int, bytes, int, Optional[BaseException]]]:
    """Yield (1-based line number, first ``max_bytes + 1`` bytes, full byte length, None)
    per line.

    Reads fixed-size chunks, so a huge line never sits in memory whole. When reading
    fails part-way (a truncated or corrupt compressed file, an I/O error) the last item
    is the line after the last whole one, with what was read of it and the error in
    place of None: nothing ends quietly."""
    line_no, size, head = 0, 0, bytearray()
    read = getattr(fh, "read1", fh.read)  # read1: what one step decoded, not lost when the next fails
    while True:
        try:
            chunk = read(_READ_CHUNK_BYTES)
        except _STREAM_ERRORS as exc:
            yield line_no + 1, bytes(head), size, exc
            return
        if not chunk:
            break
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            end = len(chunk) if newline < 0 else newline
            if len(head) <= max_bytes:
                head += chunk[start : min(end, start + max_bytes + 1 - len(head))]
            size += end - start
            if newline < 0:
                break
            line_no += 1
            yield line_no, bytes(head), size, None
            head, size, start = bytearray(), 0, newline + 1
    if size:
        yield line_no + 1, bytes(head), size, None


def stream_error(exc: BaseException, last: int) -> str:
    """A reading error in words: truncated compression or another I/O failure, after
    line ``last`` (the last line read whole)."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (EOFError, zlib.error, lzma.LZMAError)) or "crc" in str(exc).lower() \
            or "gzip" in str(exc).lower():
        return (f"truncated_input: the file is truncated or corrupt after line {last} ({text}); "
                "nothing past that line was read")
    return f"read_error: reading stopped after line {last} ({text}); nothing past that line was read"
