"""The sample company: a seeded, synthetic B2B supplier and its customers, for training and tests.

:func:`generate_sample` builds the nine contract tables (accounts, transactions, contacts,
assessments, ahp_judgements, and the plan inputs opportunities, competitors, account_strategy,
account_team) of "Nordhaven Industrial Supply", a fictional European
distributor of industrial supplies; :func:`write_sample` writes them as an engagement folder
(the files a client would send, plus ``engagement.yml``). The bundled ``data/sample/`` folder
is ``write_sample("data/sample")`` with the defaults. See ``docs/sample.md`` for what is in it.

The same ``n_accounts`` and ``seed`` always give the same tables. Each table draws from its own
random stream (spawned from ``seed``), so e.g. the contacts do not change when the transaction
model is tuned, as long as the accounts stay the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kamlib.errors import KamError, ParameterError

if TYPE_CHECKING:  # pandas is imported lazily: `import kamlib.sample` stays cheap
    import pandas as pd

__all__ = ["generate_sample", "write_sample", "write_class", "write_quarters", "SampleFolderNotEmpty",
           "FILES", "COMPANY"]

from kamlib.sample.catalogue import COMPANY, FILES  # noqa: E402  (no heavy imports)

MIN_ACCOUNTS = 10
MAX_ACCOUNTS = 100_000
"""The largest sample company (about 43 million invoice lines): more is an error, not a
machine out of memory."""


class SampleFolderNotEmpty(KamError):
    """The folder to write the sample into already holds files."""


def generate_sample(n_accounts: int = 600, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """Generate the sample company's input tables.

    Parameters
    ----------
    n_accounts : int, default 600
        Number of customer accounts (at least 10; the sample is meant for 300-3000). Invoice lines grow roughly in proportion
        (~430 per account over the three years).
    seed : int, default 2026
        Seed of the random generator; the same seed gives identical tables.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``accounts``, ``transactions``, ``contacts``, ``assessments``, ``ahp_judgements``,
        ``opportunities``, ``competitors``, ``account_strategy`` and ``account_team``,
        with exactly the columns of :mod:`kamlib.intake.contract` (identifiers as ``str``, dates as
        ``datetime64``). The transactions include a few deliberately bad lines (see
        ``docs/sample.md``).

    Raises
    ------
    ParameterError
        If ``n_accounts`` is below 10 or ``seed`` is negative.
    """
    import numpy as np
    import pandas as pd

    from kamlib.intake.contract import TABLES
    from kamlib.sample import accounts as acc_mod
    from kamlib.sample import contacts as con_mod
    from kamlib.sample import judgements as jud_mod
    from kamlib.sample import plans as plan_mod
    from kamlib.sample import transactions as tx_mod

    if (isinstance(n_accounts, bool) or not isinstance(n_accounts, (int, np.integer))
            or not MIN_ACCOUNTS <= n_accounts <= MAX_ACCOUNTS):
        raise ParameterError(
            f"n_accounts must be a whole number from {MIN_ACCOUNTS} to {MAX_ACCOUNTS:,}, got "
            f"{n_accounts!r}. Fix: pass e.g. --accounts 600."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative whole number, got {seed!r}. Fix: pass e.g. --seed 2026.")

    streams = np.random.SeedSequence(int(seed)).spawn(9)  # the first seven as before 9 existed
    r_acc, r_prod, r_tx, r_bad, r_con, r_ass, r_ahp, r_plan, r_pri = (
        np.random.default_rng(s) for s in streams)

    accounts = acc_mod.draw_accounts(r_acc, int(n_accounts))
    products = tx_mod.draw_products(r_prod)
    lines = tx_mod.draw_transactions(r_tx, accounts, products)
    accounts = acc_mod.calibrate_wallet(accounts, lines)
    lines = tx_mod.plant_problems(r_bad, lines, accounts)
    transactions = tx_mod.finish(lines)
    contacts = plan_mod.record_priorities(r_pri, con_mod.draw_contacts(r_con, accounts), accounts)
    assessments = jud_mod.draw_assessments(r_ass, accounts, transactions)
    ahp = jud_mod.draw_ahp(r_ahp)
    last_year = transactions[transactions["date"] > transactions["date"].max() - pd.Timedelta(days=365)]
    plan_inputs = plan_mod.draw_plan_inputs(
        r_plan, accounts, last_year.groupby("account_id")["net_revenue"].sum())

    tables = {
        "accounts": accounts[TABLES["accounts"].column_names].copy(),
        "transactions": transactions,
        "contacts": contacts,
        "assessments": assessments,
        "ahp_judgements": ahp,
        **plan_inputs,
    }
    for name, df in tables.items():
        assert list(df.columns) == TABLES[name].column_names, name
    return tables


def engagement_yaml(client: str = COMPANY, n_accounts: int = 600, seed: int = 2026,
                    quarter: int = 1) -> str:
    """The engagement.yml text of a sample folder (its header says how to regenerate it;
    ``quarter`` 2, 3 ...: a later snapshot of the company).

    The sample's data is a frozen past, so its plans start at the data's date
    (``plan_start: as_of``): the next quarter's snapshot can then review them.
    """
    import yaml

    doc = {"client": client, "currency": "EUR", "inputs": dict(FILES),
           "parameters": {"plan_start": "as_of"}}
    which = ("The bundled sample engagement" if (client, n_accounts, seed) == (COMPANY, 600, 2026)
             else "A sample engagement")
    if quarter == 1:
        header = (
            f"# {which}: a synthetic company generated by kamlib.sample.\n"
            f"# Regenerate with: kam sample DIR --accounts {n_accounts} --seed {seed}\n"
        )
    else:
        header = (
            f"# {which} {quarter - 1} quarter(s) later (kamlib.sample.quarters): review\n"
            "# the earlier quarter's run with kam run THIS_FOLDER --baseline EARLIER_RUN.\n"
            f"# Regenerate with: kam sample DIR --accounts {n_accounts} --seed {seed} --quarters {quarter}\n"
        )
    header += "# plan_start as_of: the data is a frozen past, so the plans start at its date.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def quarter_folder(folder, quarter: int) -> Path:
    """Where quarter ``quarter`` of a sample written to ``folder`` goes: ``folder`` itself for
    the first, ``<folder>_q<quarter>`` beside it for the later ones (``data/sample_q2``)."""
    folder = Path(folder)
    if quarter == 1:
        return folder
    named = folder if folder.name else folder.resolve()  # "." is the current folder's name
    if not named.name:
        raise ParameterError(f"{folder}: the later quarters go beside the folder, named after it, "
                             "and this one has no name. Fix: give a named folder, e.g. "
                             "kam sample training --quarters 2.")
    return named.with_name(f"{named.name}_q{quarter}")


def write_quarters(folder, n_accounts: int = 600, seed: int = 2026, quarters: int = 2,
                   overwrite: bool = False) -> list[Path]:
    """Write ``quarters`` consecutive snapshots of the sample company, one engagement folder
    each (:func:`quarter_folder`; the same client), and return the folders.

    Quarter 1 is exactly :func:`write_sample`'s; each later one is
    :func:`kamlib.sample.quarters.next_quarter` of the one before.
    """
    from kamlib.sample.quarters import next_quarter
    from kamlib.sample.writer import write_tables

    if isinstance(quarters, bool) or not isinstance(quarters, int) or not 1 <= quarters <= 8:
        raise ParameterError(f"quarters must be a whole number from 1 to 8, got {quarters!r}. "
                             "Fix: pass e.g. --quarters 2.")
    folders = [quarter_folder(folder, q) for q in range(1, quarters + 1)]
    for f in folders:
        _check_folder(f, overwrite)
    tables = generate_sample(n_accounts=n_accounts, seed=seed)
    for q, f in enumerate(folders, 1):
        if q > 1:
            tables = next_quarter(tables, q, seed)
        f.mkdir(parents=True, exist_ok=True)
        write_tables(tables, f)
        (f / "engagement.yml").write_text(engagement_yaml(COMPANY, n_accounts, seed, q),
                                          encoding="utf-8")
    return folders


def write_sample(folder, n_accounts: int = 600, seed: int = 2026, overwrite: bool = False,
                 client: str = COMPANY) -> dict[str, Path]:
    """Generate the sample company and write it as an engagement folder.

    Parameters
    ----------
    folder : str or Path
        Folder to write into; created if missing.
    n_accounts, seed : int
        See :func:`generate_sample`.
    overwrite : bool, default False
        Write into a folder that already holds files (replacing the sample's files).
    client : str
        The client's name in engagement.yml (pages and workbooks carry it).

    Returns
    -------
    dict of str to Path
        Path of each written file by table name, plus ``"engagement"`` for engagement.yml.

    Raises
    ------
    SampleFolderNotEmpty
        If ``folder`` holds files and ``overwrite`` is False.
    """
    from kamlib.sample.writer import write_tables

    folder = Path(folder)
    _check_folder(folder, overwrite)
    tables = generate_sample(n_accounts=n_accounts, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = write_tables(tables, folder)
    eng = folder / "engagement.yml"
    eng.write_text(engagement_yaml(client, n_accounts, seed), encoding="utf-8")
    paths["engagement"] = eng
    return paths


def _check_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise SampleFolderNotEmpty(f"{folder} is a file, not a folder. Fix: choose a folder path for the sample.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise SampleFolderNotEmpty(
            f"{folder} is not empty, and writing the sample would replace files in it. "
            f"Fix: choose a new or empty folder, or pass overwrite=True (on the command line: kam sample DIR --force)."
        )


MAX_CLASS = 200
"""The largest class ``write_class`` writes (one company of ``n_accounts`` each)."""


def class_seeds(n_students: int, seed: int = 2026) -> list[int]:
    """One seed per student: ``seed + 1`` .. ``seed + n_students``.

    None of them is ``seed`` itself, so no student's company is the one the class was shown
    (the bundled sample, with the default seed), and the same class size and seed always give
    the same companies: a trainer can regenerate one student's folder alone.
    """
    return [seed + i for i in range(1, n_students + 1)]


def write_class(folder, n_students: int, n_accounts: int = 600, seed: int = 2026,
                overwrite: bool = False) -> list[Path]:
    """Write one ready engagement per student: ``student_01`` .. ``student_NN`` under ``folder``.

    Every company has ``n_accounts`` accounts and its own seed (:func:`class_seeds`), so the
    companies are alike in size and shape but no two students share answers. ``folder`` also
    gets ``class.csv``: each student folder with its seed and the command that regenerates it.

    Raises
    ------
    ParameterError
        If ``n_students`` is below 1 or above :data:`MAX_CLASS`.
    SampleFolderNotEmpty
        If ``folder`` holds files and ``overwrite`` is False.
    """
    if not 1 <= n_students <= MAX_CLASS:
        raise ParameterError(f"A class has 1 to {MAX_CLASS} students, not {n_students}. "
                             "Fix: give the number of students, e.g. kam sample DIR --class 20.")
    folder = Path(folder)
    _check_folder(folder, overwrite)
    width = max(2, len(str(n_students)))
    rows = ["student,folder,accounts,seed,regenerate"]
    written = []
    for number, student_seed in enumerate(class_seeds(n_students, seed), start=1):
        name = f"student_{number:0{width}d}"
        write_sample(folder / name, n_accounts=n_accounts, seed=student_seed, overwrite=overwrite,
                     client=f"{COMPANY} (student {number:0{width}d})")
        rows.append(f"{number},{name},{n_accounts},{student_seed},"
                    f"kam sample {name} --accounts {n_accounts} --seed {student_seed}")
        written.append(folder / name)
    (folder / "class.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return written
