"""Stable pseudonyms for the names in a client's data, applied once at intake.

A run made with ``anonymise=True`` replaces every account name, contact name and name of our
own people (account managers, contact owners, the managers who assess accounts) with a
pseudonym such as ``Account K7QX2``, ``Contact 3HD9P`` or ``Manager W2R8T``. Because intake does
it before any table is saved, every downstream table, figure and page is anonymised too.

Pseudonyms are a keyed hash (HMAC-SHA256) of the name, keyed by the engagement name: the same
name always gets the same pseudonym within an engagement (so runs can be compared and a
manager's assessments still line up with the accounts they manage), different engagements
give unrelated pseudonyms, and without the key a pseudonym cannot be looked up in a list of
likely names. Our people share one pseudonym space, so "J. Smith" as account manager and as
assessor stays one person. Identifiers (account_id, contact_id) are not names and are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
CODE_LENGTH = 5

NAME_COLUMNS: dict[str, dict[str, str]] = {
    "accounts": {"name": "Account", "account_manager": "Manager"},
    "contacts": {"name": "Contact", "owner": "Manager"},
    "assessments": {"manager": "Manager"},
    "ahp_judgements": {"manager": "Manager"},
    "opportunities": {"owner": "Manager"},
    "account_team": {"person": "Manager"},
}
"""Which columns of which table hold names, and the kind of pseudonym each gets."""


def _canonical(name: str) -> str:
    """Names that differ only in case, accents' encoding or spacing are the same person."""
    return " ".join(unicodedata.normalize("NFC", str(name)).split()).casefold()


class Pseudonymiser:
    """Maps names to stable pseudonyms for one engagement.

    Parameters
    ----------
    key : str
        The engagement name (or any secret): the same key gives the same pseudonyms.

    Attributes
    ----------
    mapping_ : dict[tuple[str, str], str]
        (kind, name) -> pseudonym for every name seen so far (keep it private: it undoes the
        anonymisation).

    Examples
    --------
    >>> p = Pseudonymiser("acme-2026")
    >>> p.pseudonym("Müller GmbH", "Account") == p.pseudonym("müller  gmbh", "Account")
    True
    """

    def __init__(self, key: str) -> None:
        self.key = str(key)
        self.mapping_: dict[tuple[str, str], str] = {}
        self._taken: dict[str, tuple[str, str]] = {}

    def _code(self, canonical: str, kind: str, length: int) -> str:
        digest = hmac.new(self.key.encode(), f"{kind}\x1f{canonical}".encode(), hashlib.sha256).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(length):
            number, r = divmod(number, 32)
            chars.append(_ALPHABET[r])
        return "".join(chars)

    def pseudonym(self, name: str, kind: str) -> str:
        """The pseudonym of ``name`` (``kind``: "Account", "Contact", "Manager", ...)."""
        canonical = _canonical(name)
        hit = self.mapping_.get((kind, canonical))
        if hit is not None:
            return hit
        length = CODE_LENGTH
        while True:
            # 32**5 = 33 million codes; a clash between two different names is rare but
            # possible, and then the later name gets a longer code rather than the same one
            out = f"{kind} {self._code(canonical, kind, length)}"
            owner = self._taken.get(out)
            if owner is None or owner == (kind, canonical):
                break
            length += 1
        self._taken[out] = (kind, canonical)
        self.mapping_[(kind, canonical)] = out
        return out

    def series(self, values: pd.Series, kind: str) -> pd.Series:
        """Pseudonymise a column; missing values stay missing."""
        import pandas as pd

        uniq = {v: self.pseudonym(v, kind) for v in pd.unique(values.dropna())}
        out = values.map(uniq)
        return out if values.dtype == object else out.astype(values.dtype)


def anonymise_tables(tables: dict[str, pd.DataFrame], key: str,
                     pseudonymiser: Pseudonymiser | None = None) -> dict[str, pd.DataFrame]:
    """Replace the names in each contract table (see :data:`NAME_COLUMNS`).

    Parameters
    ----------
    tables : dict of str to DataFrame
        Clean contract tables by name (absent or None tables are skipped).
    key : str
        Engagement name; same key, same pseudonyms.
    pseudonymiser : Pseudonymiser, optional
        Reuse one (e.g. to anonymise set-aside rows with the same mapping).

    Returns
    -------
    dict of str to DataFrame
        New frames; the inputs are not modified. Other tables pass through unchanged.
    """
    p = pseudonymiser or Pseudonymiser(key)
    out = dict(tables)
    for name, columns in NAME_COLUMNS.items():
        frame = tables.get(name)
        if frame is None:
            continue
        frame = frame.copy()
        for col, kind in columns.items():
            if col in frame.columns:
                frame[col] = p.series(frame[col], kind)
        out[name] = frame
    return out
