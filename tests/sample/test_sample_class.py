"""``kam sample --class N``: one ready engagement per student, same size, different seeds."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from kamlib.cli import main
from kamlib.errors import ParameterError
from kamlib.intake.contract import PLAN_INPUTS
from kamlib.intake.engagement import load_engagement
from kamlib.sample import SampleFolderNotEmpty, class_seeds, write_class


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class") / "course"
    assert main(["sample", str(folder), "--class", "3", "--accounts", "20", "--seed", "7"]) == 0
    return folder


def test_one_engagement_per_student_with_its_own_seed(klass):
    students = sorted(p.name for p in klass.iterdir() if p.is_dir())
    assert students == ["student_01", "student_02", "student_03"]
    roster = pd.read_csv(klass / "class.csv")
    assert roster["seed"].tolist() == [8, 9, 10] == class_seeds(3, 7)
    assert roster["accounts"].tolist() == [20, 20, 20]
    assert roster["regenerate"][1] == "kam sample student_02 --accounts 20 --seed 9"
    for name in students:
        engagement = load_engagement(klass / name)  # each folder is a ready engagement
        assert engagement.client.endswith(f"(student {name[-2:]})")
        doc = yaml.safe_load((klass / name / "engagement.yml").read_text(encoding="utf-8"))
        assert set(doc["inputs"]) == {"accounts", "transactions", "contacts", "assessments",
                                      "ahp_judgements", *PLAN_INPUTS}


def test_same_size_but_no_two_students_share_data(klass):
    accounts = [pd.read_csv(klass / f"student_0{i}" / "accounts.csv") for i in (1, 2, 3)]
    lines = [pd.read_parquet(klass / f"student_0{i}" / "transactions.parquet") for i in (1, 2, 3)]
    assert {len(a) for a in accounts} == {20}
    for i in range(3):
        for j in range(i + 1, 3):
            assert not lines[i].equals(lines[j])
            assert lines[i]["net_revenue"].sum() != lines[j]["net_revenue"].sum()


def test_a_student_folder_regenerates_from_its_seed(klass, tmp_path):
    assert main(["sample", str(tmp_path / "again"), "--accounts", "20", "--seed", "9"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "again" / "transactions.parquet"),
                                  pd.read_parquet(klass / "student_02" / "transactions.parquet"))


def test_class_size_and_folder_are_checked(tmp_path, capsys):
    with pytest.raises(ParameterError, match="1 to 200 students"):
        write_class(tmp_path / "none", 0)
    assert main(["sample", str(tmp_path / "big"), "--class", "201"]) == 2
    assert "1 to 200 students" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(SampleFolderNotEmpty):
        write_class(tmp_path / "full", 2, n_accounts=10)
    assert not (tmp_path / "full" / "student_01").exists()


def test_seeds_never_repeat_the_shown_sample():
    assert 2026 not in class_seeds(20) and len(set(class_seeds(20))) == 20


@pytest.mark.parametrize("args, expected", [
    (["--accounts", "100000000000"], "from 10 to 100,000"),  # an error, not a MemoryError
    (["--quarters", "2", "--class", "2", "--accounts", "10"], "not --quarters and --class"),
    (["--edit-plan", "--class", "2"], "not --edit-plan and --class"),
])
def test_absurd_or_conflicting_sample_options_are_one_paragraph(tmp_path, capsys, args, expected):
    assert main(["sample", str(tmp_path / "co"), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "\n" not in err.strip()
    assert not (tmp_path / "co").exists()


def test_quarters_of_the_current_folder_go_beside_it(tmp_path, capsys, monkeypatch):
    here = tmp_path / "training"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["sample", ".", "--quarters", "2", "--accounts", "10"]) == 0  # was a ValueError
    assert (here / "engagement.yml").is_file()
    assert (tmp_path / "training_q2" / "engagement.yml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training", "training_q2"]
