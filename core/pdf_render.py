"""HTML to tagged PDF (PDF/UA-1) with WeasyPrint, in this process or in a few child processes.

WeasyPrint's layout is pure Python and takes one core: a long document made of many parts (the
briefing packet: an agency a part) is laid out faster by ``Renderers``, child processes that each
render one part at a time, while this process prepares the next parts and joins the finished ones.
The children import WeasyPrint only (no Django, no database connection); they are started with
``python -m core.pdf_render`` (not ``multiprocessing``, which re-imports the caller's main module and
is refused inside daemonic Celery workers) and read one job a line on stdin: an HTML file and the PDF
file to write. Memory stays bounded: a child holds one part, and at most two jobs wait for each child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import IO, Any

_BASE_DIR = Path(__file__).resolve().parents[1]
_QUIET = ("weasyprint", "weasyprint.progress", "fontTools")


class Fonts:
    """WeasyPrint's font configuration and URL fetcher, made once and shared by every document rendered.

    Each ``HTML`` otherwise makes its own fetcher, and with it an SSL context (~20 ms a document).
    """

    def __init__(self) -> None:
        from weasyprint import URLFetcher
        from weasyprint.text.fonts import FontConfiguration

        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        self.font_config = FontConfiguration()
        self.url_fetcher = URLFetcher()


def render_tagged_pdf(html: str, target: str | None = None, *, fonts: Fonts | None = None) -> bytes | None:
    """A tagged PDF (structure tags, document language and title) for screen readers.

    Returned as bytes, or written to the file ``target`` (then None).
    """
    from weasyprint import HTML

    fonts = fonts or Fonts()
    document = HTML(string=html, url_fetcher=fonts.url_fetcher)
    return document.write_pdf(target, pdf_variant="pdf/ua-1", font_config=fonts.font_config)


class Renderers:
    """Render HTML files to PDF files in ``processes`` children, results in the order submitted.

    With ``processes`` 0 each file is rendered here, at ``submit``. ``pending`` jobs are those
    submitted and not yet taken with ``next_done``; ``busy`` says when to take one before submitting
    more (two waiting for each child keeps them fed without holding more parts).
    """

    def __init__(self, processes: int) -> None:
        self.fonts: Fonts | None = None if processes else Fonts()
        self.children: list[subprocess.Popen[str]] = []
        self.queue: deque[tuple[subprocess.Popen[str] | None, str]] = deque()
        self.turn = 0
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_BASE_DIR), os.environ.get("PYTHONPATH", "")])}
        try:
            for _ in range(processes):
                self.children.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "core.pdf_render"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                        encoding="utf-8",  # as the child writes its answers
                        cwd=_BASE_DIR,
                        env=env,
                    )
                )
        except BaseException:
            self.close()  # the children already started
            raise

    @property
    def pending(self) -> int:
        return len(self.queue)

    @property
    def busy(self) -> bool:
        return len(self.queue) >= 2 * max(len(self.children), 1)

    def submit(self, html_path: str, pdf_path: str) -> None:
        if not self.children:
            render_tagged_pdf(Path(html_path).read_text(encoding="utf-8"), pdf_path, fonts=self.fonts)
            self.queue.append((None, pdf_path))
            return
        child = self.children[self.turn % len(self.children)]
        self.turn += 1
        try:
            _send(child.stdin, f"{html_path}\t{pdf_path}\n")
        except OSError as error:  # the child is gone (killed for memory, say): say so, not "broken pipe"
            raise RuntimeError(f"The PDF renderer stopped (exit code {child.poll()})") from error
        self.queue.append((child, pdf_path))

    def next_done(self) -> str:
        """The PDF file of the oldest job, once written; an error in the child is raised here."""
        child, pdf_path = self.queue.popleft()
        if child is not None:
            assert child.stdout is not None
            answer = child.stdout.readline().rstrip("\n")
            if answer != "ok":
                raise RuntimeError(f"The PDF renderer failed: {answer or 'it stopped'}")
        return pdf_path

    def close(self) -> None:
        """Children end when their input does; after an error they are stopped."""
        for child in self.children:
            if child.stdin:
                with contextlib.suppress(OSError):  # a child that died leaves a broken pipe
                    child.stdin.close()
        for child in self.children:
            try:
                child.wait(timeout=30 if not self.queue else 0.1)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            finally:
                if child.stdout:
                    child.stdout.close()
        self.children = []

    def __enter__(self) -> Renderers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _send(stream: IO[str] | None, line: str) -> None:
    assert stream is not None
    stream.write(line)
    stream.flush()


def _serve() -> None:
    """A child: render each ``html_path<TAB>pdf_path`` line, answer ``ok`` or the error, until stdin ends."""
    # Answers go on a copy of stdout; what a library prints goes to stderr and cannot put them out of step.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    fonts = Fonts()
    for line in sys.stdin:
        html_path, pdf_path = line.rstrip("\n").split("\t")
        try:
            render_tagged_pdf(Path(html_path).read_text(encoding="utf-8"), pdf_path, fonts=fonts)
            answer = "ok"
        except Exception as error:  # reported to the parent, which raises it
            answer = f"{type(error).__name__}: {error}".replace("\n", " ")[:2000]
        answers.write(answer + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve()
