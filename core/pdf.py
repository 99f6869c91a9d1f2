"""Join tagged PDFs (WeasyPrint's PDF/UA-1 output) into one file, one part at a time, in bounded memory.

A merge in pypdf's ``PdfWriter`` keeps every object of every part in memory until it writes, and drops
what makes the file accessible: the structure tree, ``/Lang``, ``/MarkInfo`` and the PDF/UA metadata.
``TaggedPdfJoiner`` reads each part with pypdf, writes its objects to the output at once (renumbered,
packed into compressed object streams) and keeps only small indexes: the cross-reference table, the
page references, the parent-tree keys and the first and last bookmark of each part. At the end it
writes one page tree, one structure tree (``Document`` holding each part's own ``Document``, renamed
``Part``), one parent tree, one outline (each part's bookmarks, in order) and the first part's
catalog entries (language, title, metadata).
"""

from __future__ import annotations

import io
import os
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

_OBJECTS_PER_STREAM = 200
# Catalog-level objects of each part that the joined file replaces with its own.
_CATALOG, _PAGES, _STRUCT_ROOT, _DOCUMENT, _OUTLINES, _PARENT_TREE = range(1, 7)


@dataclass
class _Part:
    pages: list[int]
    document: int | None  # the part's Document element, now a Part
    outline: tuple[int, int, int] | None = None  # first and last top bookmark, and the visible count
    deferred: dict[int, bytes] = field(default_factory=dict)  # bookmarks written once their siblings are known


class TaggedPdfJoiner:
    """Append parts with ``add``; ``finish`` writes the catalog, the trees and the cross-reference stream."""

    def __init__(self, output: IO[bytes]) -> None:
        self.out = output
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        # Cross-reference entries by object number: kind (1 in the file, 2 in an object stream), field, index.
        self.kinds = array("B", [0] * 7)
        self.fields = array("Q", [0] * 7)
        self.indexes = array("H", [0] * 7)
        self.pending: list[tuple[int, bytes]] = []
        self.parts: list[_Part] = []
        self.parent_tree: list[tuple[int, int]] = []  # (key, object number of the value)
        self.next_key = 0
        self.catalog_extras: bytes = b""
        self.info: bytes = b""

    # --- writing objects --------------------------------------------------------------------

    def _new_number(self) -> int:
        self.kinds.append(0)
        self.fields.append(0)
        self.indexes.append(0)
        return len(self.kinds) - 1

    def _put(self, number: int, body: bytes) -> None:
        """A non-stream object, packed into the next object stream."""
        self.pending.append((number, body))
        if len(self.pending) >= _OBJECTS_PER_STREAM:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        header, bodies, offset = [], [], 0
        for number, body in self.pending:
            header.append(f"{number} {offset}".encode())
            bodies.append(body)
            offset += len(body) + 1
        head = b" ".join(header) + b"\n"
        data = zlib.compress(head + b"\n".join(bodies) + b"\n")
        stream = self._new_number()
        for index, (number, _body) in enumerate(self.pending):
            self.kinds[number], self.fields[number], self.indexes[number] = 2, stream, index
        extra = f"/Type /ObjStm /N {len(self.pending)} /First {len(head)} /Filter /FlateDecode".encode()
        self._put_stream(stream, extra, data)
        self.pending = []

    def _put_stream(self, number: int, entries: bytes, data: bytes) -> None:
        self.kinds[number], self.fields[number] = 1, self.out.tell()
        self.out.write(f"{number} 0 obj\n<< ".encode() + entries + f" /Length {len(data)} >>\nstream\n".encode())
        self.out.write(data)
        self.out.write(b"\nendstream\nendobj\n")

    # --- one part ---------------------------------------------------------------------------

    def add(self, path: str | Path, *, catalog: bool = False) -> int:
        """Copy a part's pages, structure and bookmarks into the output; returns the part's number.

        The joined file's language, title and metadata are those of the part added with ``catalog``
        (or, without one, of the first part).
        """
        reader = PdfReader(path)
        root: Any = reader.trailer["/Root"].get_object()
        fixed: dict[int, int] = {root.indirect_reference.idnum: _CATALOG} if root.indirect_reference else {}
        numbers: dict[int, int] = {}
        for key, number in (("/Pages", _PAGES), ("/StructTreeRoot", _STRUCT_ROOT), ("/Outlines", _OUTLINES)):
            if isinstance(root.raw_get(key) if key in root else None, IndirectObject):
                fixed[root.raw_get(key).idnum] = number
        copier = _Copier(self, fixed, numbers, key_offset=self.next_key)
        parent = {"/Parent": b"%d 0 R" % _PAGES}
        part = _Part(pages=[copier.number(page.indirect_reference, parent) for page in reader.pages], document=None)
        if catalog or not self.parts:
            self._take_catalog(reader, root, copier)
        struct_root: Any = root.get("/StructTreeRoot")
        if struct_root is not None:
            kids = struct_root.get("/K")
            kids = kids if isinstance(kids, ArrayObject) else [kids]
            [document] = kids  # WeasyPrint: one Document element
            part.document = copier.number(document, overrides={"/S": b"/Part", "/P": f"{_DOCUMENT} 0 R".encode()})
            parent_tree = struct_root.get("/ParentTree")
            next_key = 0
            for key, value in _number_tree(parent_tree.get_object() if parent_tree else None):
                if isinstance(value, IndirectObject):
                    number = copier.number(value)
                else:
                    number = self._new_number()
                    self._put(number, copier.serialize(value))
                self.parent_tree.append((self.next_key + key, number))
                next_key = max(next_key, key + 1)
            self.next_key += max(next_key, int(struct_root.get("/ParentTreeNextKey", 0)))
        outlines: Any = root.get("/Outlines")
        if outlines is not None and outlines.get("/First") is not None:
            first, last = outlines.raw_get("/First"), outlines.raw_get("/Last")
            part.outline = (copier.number(first), copier.number(last), max(int(outlines.get("/Count", 0)), 0))
            for ref in {first.idnum: first, last.idnum: last}.values():
                part.deferred[copier.number(ref)] = copier.serialize(ref.get_object(), skip=("/Prev", "/Next"))
        copier.copy_all(deferred=set(part.deferred))
        self.parts.append(part)
        return len(self.parts) - 1

    def _take_catalog(self, reader: PdfReader, root: DictionaryObject, copier: _Copier) -> None:
        """The joined file's language, title, metadata and viewer preferences: the first part's."""
        entries = io.BytesIO()
        for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata"):
            if key in root:
                entries.write(f" {key} ".encode())
                _write(root.raw_get(key), entries, copier.ref)
        self.catalog_extras = entries.getvalue()
        info = reader.trailer.get("/Info")
        if info is not None:
            self.info = copier.serialize(info.get_object())

    # --- the end ----------------------------------------------------------------------------

    def finish(self, order: list[int] | None = None) -> None:
        """Write the trees, the catalog and the cross-reference stream, with the parts in ``order``."""
        parts = [self.parts[index] for index in (order if order is not None else range(len(self.parts)))]
        pages = [page for part in parts for page in part.pages]
        self._put(_PAGES, f"<< /Type /Pages /Count {len(pages)} /Kids [{_refs(pages)}] >>".encode())
        documents = [part.document for part in parts if part.document is not None]
        self._put(
            _DOCUMENT, f"<< /Type /StructElem /S /Document /P {_STRUCT_ROOT} 0 R /K [{_refs(documents)}] >>".encode()
        )
        self._put(_PARENT_TREE, self._parent_tree_body())
        self._put(
            _STRUCT_ROOT,
            f"<< /Type /StructTreeRoot /K [{_DOCUMENT} 0 R] /ParentTree {_PARENT_TREE} 0 R "
            f"/ParentTreeNextKey {self.next_key} >>".encode(),
        )
        self._write_outline([part for part in parts if part.outline is not None])
        self._put(
            _CATALOG,
            b"<< /Type /Catalog /Pages %d 0 R /StructTreeRoot %d 0 R /Outlines %d 0 R /PageMode /UseOutlines"
            % (_PAGES, _STRUCT_ROOT, _OUTLINES)
            + self.catalog_extras
            + b" >>",
        )
        info = None
        if self.info:
            info = self._new_number()
            self._put(info, self.info)
        self._flush()
        self._write_xref(info)

    def _parent_tree_body(self) -> bytes:
        """A number tree of leaves of up to 500 entries under one root (a flat array would be huge)."""
        entries = sorted(self.parent_tree)
        leaves = []
        for start in range(0, len(entries), 500):
            chunk = entries[start : start + 500]
            number = self._new_number()
            nums = " ".join(f"{key} {value} 0 R" for key, value in chunk)
            self._put(number, f"<< /Limits [{chunk[0][0]} {chunk[-1][0]}] /Nums [{nums}] >>".encode())
            leaves.append(number)
        return f"<< /Kids [{_refs(leaves)}] >>".encode() if leaves else b"<< /Nums [] >>"

    def _write_outline(self, parts: list[_Part]) -> None:
        count = 0
        for index, part in enumerate(parts):
            assert part.outline is not None
            first, last, visible = part.outline
            count += visible
            links = {first: b"", last: b""}
            if index > 0:
                previous = parts[index - 1].outline
                assert previous is not None
                links[first] += b" /Prev %d 0 R" % previous[1]
            if index < len(parts) - 1:
                following = parts[index + 1].outline
                assert following is not None
                links[last] += b" /Next %d 0 R" % following[0]
            for number, body in part.deferred.items():
                self._put(number, body[:-2] + links[number] + b">>")
        if parts:
            first_item = parts[0].outline[0]  # type: ignore[index]
            last_item = parts[-1].outline[1]  # type: ignore[index]
            body = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first_item, last_item, count)
        else:
            body = b"<< /Type /Outlines /Count 0 >>"
        self._put(_OUTLINES, body)

    def _write_xref(self, info: int | None) -> None:
        xref = self._new_number()
        self.kinds[xref], self.fields[xref] = 1, self.out.tell()  # the stream lists itself
        rows = io.BytesIO()
        for number in range(len(self.kinds)):
            kind = self.kinds[number]
            if kind == 0:
                rows.write(b"\x00" + (0).to_bytes(5, "big") + (65535 if number == 0 else 0).to_bytes(2, "big"))
            else:
                rows.write(
                    bytes([kind]) + self.fields[number].to_bytes(5, "big") + self.indexes[number].to_bytes(2, "big")
                )
        data = zlib.compress(rows.getvalue())
        identifier = os.urandom(16).hex()
        entries = (
            f"/Type /XRef /Size {len(self.kinds)} /W [1 5 2] /Root {_CATALOG} 0 R "
            + (f"/Info {info} 0 R " if info else "")
            + f"/ID [<{identifier}> <{identifier}>] /Filter /FlateDecode"
        ).encode()
        offset = self.fields[xref]
        self._put_stream(xref, entries, data)
        self.out.write(f"startxref\n{offset}\n%%EOF\n".encode())


class _Copier:
    """Copies the objects of one part that its pages, structure and bookmarks reach, renumbered."""

    def __init__(self, joiner: TaggedPdfJoiner, fixed: dict[int, int], numbers: dict[int, int], *, key_offset: int):
        self.joiner = joiner
        self.fixed = fixed
        self.numbers = numbers
        self.key_offset = key_offset
        self.todo: list[IndirectObject] = []
        self.overrides: dict[int, dict[str, bytes]] = {}

    def number(self, ref: Any, overrides: dict[str, bytes] | None = None) -> int:
        """The output number of a part's object; reached for the first time, it is queued for copying."""
        idnum = ref.idnum if isinstance(ref, IndirectObject) else ref.indirect_reference.idnum
        if idnum in self.fixed:
            return self.fixed[idnum]
        if idnum not in self.numbers:
            self.numbers[idnum] = self.joiner._new_number()
            self.todo.append(ref if isinstance(ref, IndirectObject) else ref.indirect_reference)
        if overrides:
            self.overrides[idnum] = overrides
        return self.numbers[idnum]

    def ref(self, ref: IndirectObject) -> bytes:
        return b"%d 0 R" % self.number(ref)

    def serialize(self, obj: PdfObject, skip: tuple[str, ...] = (), overrides: dict[str, bytes] | None = None) -> bytes:
        out = io.BytesIO()
        if isinstance(obj, DictionaryObject):
            _write_dict(obj, out, self, skip=skip, overrides=overrides or {})
        else:
            _write(obj, out, self.ref)
        return out.getvalue()

    def copy_all(self, deferred: set[int]) -> None:
        while self.todo:
            ref = self.todo.pop()
            number = self.numbers[ref.idnum]
            if number in deferred:
                continue
            obj: Any = ref.get_object()
            overrides = self.overrides.get(ref.idnum, {})
            if isinstance(obj, StreamObject):
                entries = io.BytesIO()
                _write_entries(obj, entries, self, skip=("/Length",), overrides=overrides)
                # The stream's bytes as stored (still compressed): pypdf keeps them in ``_data``.
                self.joiner._put_stream(number, entries.getvalue(), obj._data)
            else:
                self.joiner._put(number, self.serialize(obj, overrides=overrides))


def _write_dict(obj: DictionaryObject, out: IO[bytes], copier: _Copier, *, skip=(), overrides=None) -> None:
    out.write(b"<<")
    _write_entries(obj, out, copier, skip=skip, overrides=overrides or {})
    out.write(b" >>")


def _write_entries(obj: DictionaryObject, out: IO[bytes], copier: _Copier, *, skip, overrides) -> None:
    for key in obj:
        if key in skip:
            continue
        out.write(b" ")
        NameObject(key).write_to_stream(out)
        out.write(b" ")
        if key in overrides:
            out.write(overrides[key])
        elif key in ("/StructParent", "/StructParents"):
            out.write(b"%d" % (int(cast(Any, obj[key])) + copier.key_offset))
        else:
            _write(obj.raw_get(key), out, copier.ref)


def _write(obj: Any, out: IO[bytes], ref) -> None:
    """Serialize a direct object, writing each reference as ``ref`` renumbers it."""
    if isinstance(obj, IndirectObject):
        out.write(ref(obj))
    elif isinstance(obj, DictionaryObject):
        out.write(b"<<")
        for key in obj:
            out.write(b" ")
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _write(obj.raw_get(key), out, ref)
        out.write(b" >>")
    elif isinstance(obj, ArrayObject):
        out.write(b"[")
        for item in obj:
            out.write(b" ")
            _write(item, out, ref)
        out.write(b" ]")
    else:
        obj.write_to_stream(out)


def _number_tree(node: DictionaryObject | None):
    """(key, value) pairs of a number tree, leaves in order."""
    if node is None:
        return
    nums = node.get("/Nums")
    if nums is not None:
        for index in range(0, len(nums), 2):
            yield int(nums[index]), nums[index + 1]
    for kid in node.get("/Kids", []):
        yield from _number_tree(kid.get_object())


def _refs(numbers: list[int]) -> str:
    return " ".join(f"{number} 0 R" for number in numbers)
