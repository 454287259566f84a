"""File names made from the data (kamlib.paths.safe_name): portable, stable and distinct."""

from __future__ import annotations

import re

import pytest

from kamlib.paths import safe_name

HOSTILE = ["../../../x", "..", ".", "", "DE/4711", "DE-4711", "DE 4711", "de/4711", "a\\b", "a/b",
           "x\0y", "/etc/passwd", "C:\\Windows\\x", "CON", "nul", " lead", "trail ", "-dash",
           ".hidden", "Müller & Söhne", "Muller & Sohne", "日本語", "😀", "L" * 300, "L" * 301,
           "<script>alert(1)</script>", "=HYPERLINK(\"http://evil\")", "a\nb", "a\tb"]


@pytest.mark.parametrize("key", HOSTILE)
def test_a_safe_name_is_one_portable_file_name(key):
    name = safe_name(key)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*-[0-9a-f]{10}", name), name
    assert len(name) <= 51 and ".." not in name
    assert safe_name(key) == name  # stable: the same id gives the same file every run


def test_ids_that_fold_alike_get_distinct_names():
    names = [safe_name(k) for k in HOSTILE]
    assert len(set(names)) == len(HOSTILE)
    assert len({n.lower() for n in names}) == len(HOSTILE)  # also on a case-insensitive disk


def test_a_plain_id_stays_readable():
    assert safe_name("C10000").startswith("C10000-")
    assert safe_name("DE/4711").startswith("DE-4711-")
    assert safe_name("Müller & Söhne").startswith("Muller-Sohne-")
    assert safe_name(4711) == safe_name("4711")
