"""Bad command-line values are one `error:` line and exit code 2, before any work starts."""

import json

import pytest

from nightfeed.cli import main as cli


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--input", "x.csv", "--seed", "-1"], "argument --seed: expected a whole number >= 0"),
        (
            ["stage", "generate_events", "--region", "QQ", "--ds", "2026-11-21", "--days", "0"],
            "--days: expected a positive",
        ),
        (
            ["stage", "generate_events", "--region", "QQ", "--ds", "2026-11-21", "--seed", "-2"],
            "--seed: expected a whole",
        ),
        (
            ["evaluate", "--input", "x.csv", "--time-budget", "-1"],
            "--time-budget: expected a finite number >= 0",
        ),
        (
            ["evaluate", "--input", "x.csv", "--time-budget", "nan"],
            "--time-budget: expected a finite number >= 0",
        ),
        (
            ["evaluate", "--input", "x.csv", "--confidence-alpha", "nan"],
            "--confidence-alpha: expected a finite",
        ),
        (
            ["evaluate", "--input", "x.csv", "--test-fraction", "inf"],
            "--test-fraction: expected a finite number",
        ),
        (["maintain", "--retention-hours", "inf"], "--retention-hours: expected a finite number >= 0"),
    ],
)
def test_out_of_range_arguments_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: nightfeed ") and message in err[0]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", ""], "error: --model names no model; choose from popularity"),
        (["--model", " , "], "error: --model names no model; choose from popularity"),
        (
            ["--model", "ease", "--confidence", "log", "--confidence-eps", "-1"],
            "error: confidence log needs finite alpha > 0 and eps > 0 (got alpha=1.0, eps=-1.0)",
        ),
    ],
)
def test_evaluate_refuses_an_empty_model_list_and_names_a_bad_transform(tmp_path, capsys, extra, message):
    data = tmp_path / "r.csv"
    data.write_text("u,i\n" + "".join(f"{u},{i}\n" for u in range(6) for i in range(4)))
    argv = ["evaluate", "--input", str(data), "--user-col", "u", "--item-col", "i", *extra]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip().startswith(message)


def test_output_json_folder_is_created_and_a_bad_target_refused_before_work(tmp_path, capsys):
    data = tmp_path / "r.csv"
    data.write_text("u,i\n" + "".join(f"{u},{i}\n" for u in range(6) for i in range(4)))
    argv = ["evaluate", "--input", str(data), "--user-col", "u", "--item-col", "i", "--model", "popularity"]
    assert cli.main([*argv, "--output-json", str(tmp_path / "new" / "out.json")]) == 0
    assert (tmp_path / "new" / "out.json").read_text().startswith("[")
    capsys.readouterr()
    for command in (argv, ["benchmark", "--suite", "models"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*command, "--output-json", str(tmp_path)])
        assert exit_.value.code == 2
        out = capsys.readouterr()
        assert out.err.strip().endswith(f"argument --output-json: {tmp_path} is a directory")
        assert out.out == ""  # refused before any work


def test_benchmark_output_json_is_where_the_one_suite_writes(tmp_path, capsys, monkeypatch):
    """Every single suite writes its JSON to --output-json (the models suite once ignored it);
    with `all`, several files, it is refused before any suite runs."""
    from nightfeed.bench import models_suite

    monkeypatch.setattr(models_suite, "models_suite", lambda movielens: {"stub": True})
    target = tmp_path / "m.json"
    argv = ["benchmark", "--suite", "models", "--output-dir", str(tmp_path / "dir")]
    assert cli.main([*argv, "--output-json", str(target)]) == 0
    assert json.loads(target.read_text())["stub"] is True and not (tmp_path / "dir").exists()
    capsys.readouterr()
    assert cli.main(["benchmark", "--suite", "all", "--output-json", str(target)]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .startswith("error: --output-json with --suite all: all writes one file")
    )


def test_a_stage_takes_only_its_own_options(capsys):
    """`--model` is train_model's option: given to ingest_events it is refused, not ignored."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stage", "ingest_events", "--region", "US", "--ds", "2026-11-25", "--model", "als"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: nightfeed stage ingest_events: unrecognized arguments: --model als"]
    args = cli.build_parser().parse_args(
        ["stage", "train_model", "--region", "US", "--ds", "2026-11-25", "--model", "als"]
    )
    assert (args.stage, args.model_type) == ("train_model", "als")
