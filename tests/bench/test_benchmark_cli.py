"""`nightfeed benchmark` refuses what cannot be measured with one line, before any work starts."""

import pytest

from nightfeed.cli import main as cli


@pytest.mark.parametrize(
    "argv",
    [
        ["--suite", "stages", "--repeats", "0"],
        ["--suite", "scoring", "--users", "-5"],
        ["--suite", "scoring", "--items", "0"],
        ["--suite", "scoring", "--interactions", "0"],
        ["--suite", "scoring", "--rank", "0"],
        ["--suite", "scoring", "--iterations", "-1"],
    ],
)
def test_counts_must_be_positive(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["benchmark", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"argument {argv[2]}: expected a positive integer" in err[0]


def test_a_movielens_path_given_must_exist(tmp_path, capsys):
    missing = tmp_path / "u.data"
    assert cli.main(["benchmark", "--suite", "models", "--movielens", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"error: --movielens {missing}: file not found"
