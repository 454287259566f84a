"""``kam``: run, scaffold, validate and generate key-account engagements.

Exit codes: 0 success, 1 a failure inside a notebook (a bug, or data the steps cannot handle),
2 a user's mistake (bad parameter, bad input file) or a disk that takes no more (full,
read-only) reported as one paragraph, no traceback; 130 after Ctrl-C and 143 after SIGTERM (the
run folder's manifest says ``interrupted``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kamlib.errors import KamError, ParameterError
from kamlib.formatting import printable
from kamlib.runner.faults import RunInterrupted

EPILOG = """\
examples:
  kam run                                  run the bundled sample engagement
  kam run clients/acme -p selection.n_key_accounts=30 --label q3
  kam run clients/acme --baseline reports/acme/20260301-091500
  kam run --anonymise                      pseudonyms for every name and id in every output
  kam run --anonymise --anonymise-client   ... and for the client's name
  kam new clients/acme                     scaffold an engagement for a new client
  kam validate clients/acme                check the inputs, print the data-quality report
  kam map clients/acme                     propose a column and value mapping in engagement.yml
  kam map clients/acme --accept            accept the proposed mapping
  cd clients/acme && kam validate          no folder given: the engagement in this folder
  kam sample /tmp/training --accounts 300 --seed 7
  kam sample /tmp/training --quarters 2    and its next quarter in /tmp/training_q2
  kam sample reports/sample/RUN --edit-plan
  kam sample /tmp/class --class 20         one company per student, for a course
  kam compare RUN_A RUN_B                  what changed between two runs (a page)
"""


def _parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"-p {pair!r}: write -p name=value (or -p step.name=value).")
        overrides[name.strip()] = value
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kam",
        description="Key account management workbook: run the step notebooks of an engagement "
        "(selection, CLV, segmentation, account plans) and write a client-ready run folder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run every step notebook into a new run folder",
                         description="Run every step notebook of an engagement, in order, into "
                         "reports/<engagement>/<timestamp>[_label]/.")
    run.add_argument("engagement", nargs="?", default=None,
                     help="engagement folder (default: the current folder when it holds an "
                     "engagement.yml, else the bundled sample)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter (NAME or STEP.NAME); repeatable")
    run.add_argument("--label", default="", help="appended to the run folder's name")
    run.add_argument("--baseline", default="", metavar="RUN",
                     help="previous run folder (or its edited plan_workbook.xlsx) to review the "
                     "last plan against")
    run.add_argument("--anonymise", "--anonymize", action="store_true",
                     help="replace account, contact and manager names with stable pseudonyms")
    run.add_argument("--anonymise-client", "--anonymize-client", action="store_true",
                     help="show the client's name as a pseudonym too (pages, deck, manifest)")
    run.add_argument("--steps", default="", metavar="A,B",
                     help="run only these steps (e.g. intake,selection)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    new = sub.add_parser("new", help="scaffold an engagement folder for a new client",
                         description="Write engagement.yml (every parameter with its default and "
                         "meaning), empty input templates and a README on what to export.")
    new.add_argument("folder", help="folder to create (must be empty or absent)")
    new.add_argument("--client", default="", help="client name for engagement.yml")

    val = sub.add_parser("validate", help="check an engagement's inputs without running anything")
    val.add_argument("engagement", nargs="?", default=None,
                     help="engagement folder (default: the current folder when it holds an "
                     "engagement.yml, else the bundled sample)")
    val.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override an intake parameter (e.g. as_of=2026-06-30)")
    val.add_argument("--suggest", action="store_true",
                     help="first propose a column and value mapping in engagement.yml (kam map)")

    mapper = sub.add_parser(
        "map", help="propose a column and value mapping of the client's exports",
        description="Read the headers and a sample of each input file, propose which client "
        "header is which contract column (and which client word which contract value), and "
        "write the proposal into engagement.yml as a commented block to check and accept.")
    mapper.add_argument("engagement", nargs="?", default=None,
                        help="engagement folder (default: the current folder)")
    mapper.add_argument("--accept", action="store_true",
                        help="make the proposed block of engagement.yml active")
    mapper.add_argument("--dry-run", action="store_true",
                        help="print the proposal, do not write engagement.yml")

    sample = sub.add_parser("sample", help="write a synthetic sample company (for training)")
    sample.add_argument("folder", help="folder to write (must be empty or absent)")
    sample.add_argument("--accounts", type=int, default=600, help="number of accounts (600)")
    sample.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    sample.add_argument("--force", action="store_true", help="overwrite a non-empty folder")
    sample.add_argument("--quarters", type=int, default=1,
                        help="consecutive quarterly snapshots of the company (1); quarter 2 goes "
                             "to FOLDER_q2, and so on")
    sample.add_argument("--edit-plan", action="store_true",
                        help="FOLDER is a run of the sample: edit its plan_workbook.xlsx as the "
                             "account managers would (done, dropped, re-owned, added by hand)")
    sample.add_argument("--class", dest="class_size", type=int, default=0, metavar="N",
                        help="write N companies, one per student (student_01 ... under the "
                        "folder): same size, seeds SEED+1 ... SEED+N")

    compare = sub.add_parser("compare", help="what changed between two runs (a page)",
                             description="Compare two runs of an engagement: parameters that "
                             "differ, key accounts in and out, segment moves, CLV and investment-"
                             "ceiling changes. Writes one page; neither run folder changes.")
    compare.add_argument("run_a", metavar="RUN_A", help="the first run folder (the baseline)")
    compare.add_argument("run_b", metavar="RUN_B", help="the second run folder (the scenario)")
    compare.add_argument("--out", default="", metavar="FILE",
                         help="page to write (default: compare_<A>_vs_<B>.html beside RUN_B)")
    return parser


def _version() -> str:
    from kamlib import __version__

    return f"kam-workbook {__version__}"


def cmd_run(args: argparse.Namespace) -> int:
    from kamlib.runner import run_engagement

    typed: dict[str, object] = {}
    if args.anonymise:
        typed["anonymise"] = True
    if args.baseline:
        baseline = Path(args.baseline).expanduser().resolve()
        edited_workbook = baseline.is_file() and baseline.suffix.lower() == ".xlsx"
        if not (edited_workbook or (baseline / "tables").is_dir()):
            raise KamError(f"--baseline {args.baseline}: neither a run folder (with tables/) nor "
                           "an edited plan_workbook.xlsx. Fix: give a folder under "
                           "reports/<engagement>/ from an earlier run, or the plan workbook the "
                           "account team updated.")
        typed["baseline"] = str(baseline)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] or None
    result = run_engagement(_engagement_ref(args.engagement), _parse_overrides(args.param), label=args.label,
                            typed=typed, steps=steps,
                            progress=False if args.no_progress else None,
                            anonymise_client=args.anonymise_client)
    if result.status == "interrupted":  # one line: the message names the run folder
        print(f"kam: {printable(result.message)}", file=sys.stderr)
        return result.exit_code
    if result.exit_code:
        _print_error(result.message)
        print(f"Run folder (incomplete): {result.run_dir}", file=sys.stderr)
        return result.exit_code
    print(f"Run folder: {result.run_dir}  -  open {result.index_html}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from kamlib.scaffold import new_engagement

    folder = new_engagement(Path(args.folder), client=args.client)
    print(f"New engagement in {folder}: fill in the input files, edit engagement.yml, then "
          f"'kam validate {folder}' and 'kam run {folder}'.")
    return 0


def _engagement_ref(given: str | None, *, sample: bool = True) -> str:
    """The engagement a command uses, said aloud when the user gave none: the current folder
    when it holds an engagement.yml, else the bundled sample (or an error, for ``kam map``)."""
    from kamlib.intake.engagement import CONFIG_FILE, engagement_in

    if given:
        return given
    here = engagement_in(Path.cwd())
    if here is not None:
        print(f"Using the engagement in the current folder ({here.resolve()}).", flush=True)
        return str(here)
    if not sample:
        raise KamError(f"The current folder has no {CONFIG_FILE}. Fix: give the engagement "
                       "folder (kam map clients/acme), or run the command inside it.")
    print(f"Using the bundled sample engagement (no {CONFIG_FILE} in the current folder).",
          flush=True)
    return "sample"


def cmd_validate(args: argparse.Namespace) -> int:
    from kamlib.intake.engagement import load_engagement
    from kamlib.intake.problems import check_all

    ref = _engagement_ref(args.engagement)
    if args.suggest:
        _map(ref, accept=False, dry_run=False)
    engagement = load_engagement(ref)
    report, problems = check_all(engagement, **_intake_params(engagement, args.param))
    if problems:
        print(printable(problems.report()), file=sys.stderr)
        return problems.exit_code
    print(printable(report.to_text()))
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    _map(_engagement_ref(args.engagement, sample=False), accept=args.accept, dry_run=args.dry_run)
    return 0


def _map(ref: str, *, accept: bool, dry_run: bool) -> None:
    from kamlib.intake.engagement import CONFIG_FILE, load_engagement
    from kamlib.intake.mapping_file import accept_block, block_text, write_block
    from kamlib.intake.suggest import suggest

    engagement = load_engagement(ref)
    config_path = engagement.folder / CONFIG_FILE
    if accept:
        print(f"{config_path}: {accept_block(config_path)}. Check it with 'kam validate "
              f"{ref}'.")
        return
    block = block_text(suggest(engagement), engagement.config)
    if dry_run or not block:
        print(printable(block) or f"{engagement.name}: every contract column is found; nothing "
              "to map.")
        return
    print(printable(block), end="")
    print(f"{config_path}: {write_block(config_path, block)}. Check every line, then "
          f"'kam map {ref} --accept' (or remove the leading '# ' of its lines yourself).")


def _intake_params(engagement, pairs: list[str]) -> dict[str, object]:
    """The intake notebook's validated parameters that :func:`kamlib.intake.load` also takes."""
    import inspect

    from kamlib import paths
    from kamlib.runner import resolve_parameters
    from kamlib.intake import load

    intake = paths.notebook_for("intake")
    plan = next(p for p in resolve_parameters(engagement, _parse_overrides(pairs))
                if p.notebook == intake)
    accepted = inspect.signature(load).parameters
    return {k: v for k, v in plan.parameters.items() if k in accepted}


def _edit_plan(args: argparse.Namespace) -> int:
    """``kam sample RUN --edit-plan``: the sample's account managers at work on a run's plan."""
    from kamlib.report.plan_workbook import WORKBOOK_NAME
    from kamlib.sample.plan_edits import edit_plan_workbook

    target = Path(args.folder)
    target = target / WORKBOOK_NAME if target.is_dir() else target
    if not target.is_file():
        raise ParameterError(f"--edit-plan: {target} does not exist. Fix: give a run folder "
                             f"of the sample (it holds {WORKBOOK_NAME}) or the workbook.")
    n = edit_plan_workbook(target, seed=args.seed)
    print(f"Edited {target} as the account managers would: {n['done']} actions done, "
          f"{n['dropped']} dropped, {n['re-owned']} re-owned, {n['added']} added by hand.")
    return 0


def _sample_quarters(args: argparse.Namespace) -> int:
    """``kam sample DIR --quarters N``: consecutive snapshots of the company."""
    from kamlib.sample import write_quarters

    folders = write_quarters(Path(args.folder), n_accounts=args.accounts, seed=args.seed,
                             quarters=args.quarters, overwrite=args.force)
    print(f"Sample company ({args.accounts} accounts, seed {args.seed}), {args.quarters} "
          f"quarters written to {', '.join(str(f) for f in folders)}. Run the first, then "
          "each next one with the run before as its baseline: "
          f"'kam run {folders[-1]} --baseline <the run before>'.")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from kamlib.sample import write_sample

    if args.accounts < 10:
        raise ParameterError("--accounts must be at least 10.")
    chosen = [flag for flag, on in (("--edit-plan", args.edit_plan), ("--quarters",
              args.quarters != 1), ("--class", args.class_size)) if on]
    if len(chosen) > 1:
        raise ParameterError(f"kam sample takes one of --edit-plan, --quarters and --class, not "
                             f"{' and '.join(chosen)}. Fix: run kam sample once for each.")
    if args.edit_plan:
        return _edit_plan(args)
    if args.quarters != 1:
        return _sample_quarters(args)
    if args.class_size:
        return _sample_class(args)
    written = write_sample(Path(args.folder), n_accounts=args.accounts, seed=args.seed,
                           overwrite=args.force)
    print(f"Sample company ({args.accounts} accounts, seed {args.seed}) written to {args.folder}: "
          f"{', '.join(Path(p).name for p in written.values())}. Run it with 'kam run {args.folder}'.")
    return 0


def _sample_class(args: argparse.Namespace) -> int:
    from kamlib.sample import write_class

    folders = write_class(Path(args.folder), args.class_size, n_accounts=args.accounts,
                          seed=args.seed, overwrite=args.force)
    print(f"A class of {len(folders)} companies ({args.accounts} accounts each, seeds "
          f"{args.seed + 1}..{args.seed + len(folders)}) written to {args.folder}: "
          f"{folders[0].name} ... {folders[-1].name}, listed in class.csv. Each student runs "
          f"'kam run {Path(args.folder) / 'student_NN'}' on their own folder.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from kamlib.runner.compare import write_comparison

    page = write_comparison(args.run_a, args.run_b, args.out or None)
    print(f"Comparison of {Path(args.run_a).name} and {Path(args.run_b).name}: open {page}")
    return 0


def _print_error(message: str) -> None:
    # not wrapped: paths and file names must stay whole so they can be copied
    print(f"kam: error: {printable(message)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    handlers = {"run": cmd_run, "new": cmd_new, "validate": cmd_validate, "sample": cmd_sample,
                "compare": cmd_compare, "map": cmd_map}
    try:
        return handlers[args.command](args)
    except KamError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("kam: interrupted", file=sys.stderr)
        return 130
    except RunInterrupted as exc:  # before the run folder existed: nothing to mark
        print(f"kam: interrupted ({exc.what}) before the run started", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
