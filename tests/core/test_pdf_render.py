"""HTML laid out to tagged PDFs in child processes (core.pdf_render): in order, tagged, errors raised here."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from core.pdf_render import Renderers


def _html(tmp_path, name: str, paragraphs: int) -> str:
    body = "".join(f"<p>Paragraph {n} of {name}.</p>" for n in range(paragraphs))
    html = f'<!doctype html><html lang="en"><head><title>{name}</title></head><body><h1>{name}</h1>{body}</body></html>'
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return str(path)


def test_children_render_each_file_to_a_tagged_pdf_and_answer_in_the_order_submitted(tmp_path):
    # The first parts are the longest: a child that finished a later one first must not change the order.
    names = [("Long", 300), ("Middle", 60), ("Short", 1), ("Last", 5)]
    with Renderers(2) as renderers:
        children = list(renderers.children)
        assert len(children) == 2
        for name, paragraphs in names:
            renderers.submit(_html(tmp_path, name, paragraphs), str(tmp_path / f"{name}.pdf"))
        assert renderers.pending == 4 and renderers.busy
        done = [renderers.next_done() for _ in names]
    assert done == [str(tmp_path / f"{name}.pdf") for name, _ in names]
    for name, _ in names:
        reader = PdfReader(tmp_path / f"{name}.pdf")
        root = reader.trailer["/Root"]
        assert reader.metadata.title == name and root["/Lang"] == "en" and "/StructTreeRoot" in root
        assert f"Paragraph 0 of {name}." in reader.pages[0].extract_text()
    assert len(PdfReader(tmp_path / "Long.pdf").pages) > len(PdfReader(tmp_path / "Short.pdf").pages)
    assert all(child.poll() == 0 for child in children)  # ended with their input


def test_an_error_in_a_child_is_raised_by_the_caller_and_the_children_stop(tmp_path):
    renderers = Renderers(1)
    child = renderers.children[0]
    try:
        renderers.submit(str(tmp_path / "missing.html"), str(tmp_path / "missing.pdf"))
        renderers.submit(_html(tmp_path, "Fine", 1), str(tmp_path / "fine.pdf"))
        try:
            renderers.next_done()
        except RuntimeError as error:
            assert "FileNotFoundError" in str(error) and "missing.html" in str(error)
        else:
            raise AssertionError("the child's error was not raised")
        assert renderers.next_done() == str(tmp_path / "fine.pdf")  # the child carries on with the next job
    finally:
        renderers.close()
    assert child.poll() is not None and renderers.children == []


def test_without_children_each_file_is_rendered_at_submit(tmp_path):
    with Renderers(0) as renderers:
        assert renderers.children == []
        renderers.submit(_html(tmp_path, "Here", 2), str(tmp_path / "here.pdf"))
        assert (tmp_path / "here.pdf").exists() and renderers.pending == 1 and not renderers.busy
        renderers.submit(_html(tmp_path, "Again", 2), str(tmp_path / "again.pdf"))
        assert renderers.busy  # two waiting: the caller joins one before it submits more
        done = [renderers.next_done(), renderers.next_done()]
    assert done == [str(tmp_path / "here.pdf"), str(tmp_path / "again.pdf")]
    assert PdfReader(tmp_path / "again.pdf").metadata.title == "Again"


def test_a_child_that_died_is_named_as_such_and_the_others_still_stop(tmp_path):
    renderers = Renderers(2)
    dead, alive = renderers.children
    dead.kill()
    dead.wait()
    try:
        with pytest.raises(RuntimeError, match="renderer stopped"):
            for n in range(20):  # each to the dead child
                renderers.turn = 0
                renderers.submit(_html(tmp_path, f"Lost{n}", 1), str(tmp_path / f"lost{n}.pdf"))
    finally:
        renderers.close()  # raises nothing, though the dead child's pipe is broken
    assert alive.poll() is not None and renderers.children == []


def test_what_a_library_prints_in_a_child_does_not_take_the_place_of_an_answer(tmp_path):
    import subprocess
    import sys

    from core import pdf_render

    child_code = (
        "from core import pdf_render\n"
        "pdf_render.Fonts = lambda: print('noise from loading fonts')\n"
        "pdf_render.render_tagged_pdf = lambda *args, **kwargs: print('noise from a layout')\n"
        "pdf_render._serve()\n"
    )
    for name in ("a", "b"):
        (tmp_path / f"{name}.html").write_text("<p>A part.</p>", encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-c", child_code],
        input=f"{tmp_path}/a.html\t{tmp_path}/a.pdf\n{tmp_path}/b.html\t{tmp_path}/b.pdf\n",
        capture_output=True,
        text=True,
        cwd=str(pdf_render._BASE_DIR),
        timeout=60,
    )
    assert child.stdout == "ok\nok\n"
    assert "noise from loading fonts" in child.stderr and child.stderr.count("noise from a layout") == 2


def test_children_started_before_one_that_fails_to_start_are_stopped(monkeypatch):
    import subprocess

    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        if started:
            raise OSError("Too many open files")
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(OSError, match="Too many open files"):
        Renderers(2)
    assert len(started) == 1 and started[0].poll() is not None  # ended with its input
