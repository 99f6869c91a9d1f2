"""Tagged PDFs joined one part at a time (core.pdf): pages, structure tree, bookmarks and catalog all kept."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from core.pdf import TaggedPdfJoiner


def _part(tmp_path, name: str, sections: int) -> str:
    body = "".join(
        f'<h2>{name} {n}</h2><p>Text of {name} {n}, <a href="https://example.org/{name}/{n}">a link</a>.</p>'
        f'<p style="break-after: page">More.</p>'
        for n in range(sections)
    )
    head = f"<head><title>Title of {name}</title></head>"
    html = f'<!doctype html><html lang="en">{head}<body><main><h1>{name}</h1>{body}</main></body></html>'
    path = tmp_path / f"{name}.pdf"
    HTML(string=html).write_pdf(path, pdf_variant="pdf/ua-1")
    return str(path)


@pytest.fixture
def joined(tmp_path):
    parts = [_part(tmp_path, "Alpha", 2), _part(tmp_path, "Bravo", 1), _part(tmp_path, "Cover", 1)]
    output = io.BytesIO()
    joiner = TaggedPdfJoiner(output)
    alpha, bravo = joiner.add(parts[0]), joiner.add(parts[1])
    cover = joiner.add(parts[2], catalog=True)
    joiner.finish(order=[cover, alpha, bravo])
    return PdfReader(io.BytesIO(output.getvalue()), strict=True)


def test_the_pages_come_in_the_order_asked_for(joined):
    assert [page.extract_text().split("\n")[0] for page in joined.pages] == ["Cover", "Alpha", "Alpha 1", "Bravo"]


def test_the_catalog_is_the_chosen_parts_tagged_pdf_ua_catalog(joined):
    root = joined.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"]
    assert joined.metadata.title == "Title of Cover"
    assert b'pdfuaid:part="1"' in joined.xmp_metadata.stream.get_data()


def test_one_structure_tree_holds_each_part_in_order(joined):
    tree = joined.trailer["/Root"]["/StructTreeRoot"]
    [document] = [kid.get_object() for kid in tree["/K"]]
    assert document["/S"] == "/Document"
    parts = [kid.get_object() for kid in document["/K"]]
    assert [part["/S"] for part in parts] == ["/Part"] * 3
    assert all(part["/P"].get_object() == document for part in parts)
    first_heading = [kid.get_object() for kid in parts[1]["/K"]]
    assert first_heading and all(kid["/P"].get_object() == parts[1] for kid in first_heading)


def test_the_parent_tree_leads_each_page_and_link_back_to_its_own_elements(joined):
    tree = joined.trailer["/Root"]["/StructTreeRoot"]
    entries = {}
    for leaf in tree["/ParentTree"]["/Kids"]:
        nums = leaf.get_object()["/Nums"]
        entries.update({int(nums[i]): nums[i + 1].get_object() for i in range(0, len(nums), 2)})
    keys = []
    for page in joined.pages:
        keys.append(page["/StructParents"])
        for element in entries[page["/StructParents"]]:
            assert element.get_object()["/Pg"].get_object() == page.get_object()
        for annotation in page.get("/Annots", []):
            keys.append(annotation.get_object()["/StructParent"])
            assert entries[annotation.get_object()["/StructParent"]]["/S"] == "/Link"
    assert len(keys) == len(set(keys)) and tree["/ParentTreeNextKey"] > max(keys)


def test_every_part_keeps_its_bookmarks_one_after_another(joined):
    cover, cover_items, alpha, alpha_items, bravo, bravo_items = joined.outline
    assert [cover.title, alpha.title, bravo.title] == ["Cover", "Alpha", "Bravo"]
    assert [item.title for item in alpha_items] == ["Alpha 0", "Alpha 1"]
    assert [joined.get_destination_page_number(item) for item in (cover, alpha, *alpha_items, bravo)] == [0, 1, 1, 2, 3]
