"""`emoreason rollouts`: a GRPO run's advantages summed by gold and answer, from rollouts.jsonl."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from emoreason.cli.main import app


def line(step: int, gold: str, answer: str, advantage: float, hinted: bool = False, domain: str = "tweets") -> str:
    record = {"step": step, "domain": domain, "gold": {"polarity": gold}, "answer": {"polarity": answer}}
    return json.dumps({**record, "advantage": advantage, "hinted": hinted}) + "\n"


def test_rollouts_prints_the_sums_by_gold_answer_and_window(tmp_path: Path) -> None:
    (tmp_path / "rollouts.jsonl").write_text(
        line(1, "negative", "negative", 0.5)
        + line(1, "negative", "positive", -0.5)
        + line(2, "positive", "negative", 0.25, hinted=True)
        + line(2, "positive", "positive", -0.25)
        + line(3, "positive", "negative", 1.0, domain="products")
        + line(3, "positive", "positive", -1.0, domain="products")
    )
    out = tmp_path / "pull.json"
    result = CliRunner().invoke(
        app, ["rollouts", str(tmp_path), "--every", "2", "--out", str(out)], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "steps 1-3 (6 rollouts, 1 hinted)" in result.output
    assert "by answer: negative +1.750, positive -1.750" in result.output
    report = json.loads(out.read_text())
    assert report["by_answer"] == {"negative": 1.75, "positive": -1.75}
    assert report["windows"] == {
        "1-2": {"negative": 0.75, "positive": -0.75},
        "3-3": {"negative": 1.0, "positive": -1.0},
    }
    # the policy's own answers: the 5 unhinted rollouts, 3 of them right (negative/negative, positive/positive twice)
    assert "unhinted answers (5): negative 0.400, positive 0.600; right 0.600" in result.output
    assert report["answers"] == {"rollouts": 5, "shares": {"negative": 0.4, "positive": 0.6}, "right": 0.6}
    assert report["answer_windows"] == {
        "1-2": {"rollouts": 3, "shares": {"negative": 1 / 3, "positive": 2 / 3}, "right": 2 / 3},
        "3-3": {"rollouts": 2, "shares": {"negative": 0.5, "positive": 0.5}, "right": 0.5},
    }
    assert "The policy's own answers (unhinted)" in result.output
    assert re.search(r"1-2 +│ +3 │ +0\.333 │ +0\.667 │ +0\.667 │", result.output), result.output
    products = CliRunner().invoke(app, ["rollouts", str(tmp_path), "--domain", "products"], env={"COLUMNS": "120"})
    assert products.exit_code == 0, products.output
    assert "products, steps 3-3 (2 rollouts, 0 hinted)" in products.output
    assert "by answer: negative +1.000, positive -1.000" in products.output
    nowhere = CliRunner().invoke(app, ["rollouts", str(tmp_path), "--domain", "movies"], env={"COLUMNS": "200"})
    assert nowhere.exit_code == 2 and "its domains: products, tweets" in nowhere.output
    # a line without a domain (written before it was recorded) falls back on a pooled id's prefix
    with (tmp_path / "rollouts.jsonl").open("a") as handle:
        handle.write(
            json.dumps({**json.loads(line(4, "negative", "negative", 0.5)), "domain": None, "id": "movies/3"}) + "\n"
        )
    movies = CliRunner().invoke(app, ["rollouts", str(tmp_path), "--domain", "movies"], env={"COLUMNS": "120"})
    assert movies.exit_code == 0 and "movies, steps 4-4 (1 rollouts, 0 hinted)" in movies.output
    positive_negative = next(p for p in report["pulls"] if (p["gold"], p["answer"]) == ("positive", "negative"))
    assert positive_negative == {
        "gold": "positive",
        "answer": "negative",
        "rollouts": 2,
        "hinted": 1,
        "advantage": 1.25,
        "hinted_advantage": 0.25,
    }


def test_rollouts_names_the_file_line_and_field_of_a_bad_record(tmp_path: Path) -> None:
    (tmp_path / "rollouts.jsonl").write_text(line(1, "negative", "negative", 0.5) + '{"step": 2, "gold": {}}\n')
    result = CliRunner().invoke(app, ["rollouts", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "rollouts.jsonl:2 (field 'answer')" in result.output
    (tmp_path / "kept_none").mkdir()  # a run that kept no rollouts
    missing = CliRunner().invoke(app, ["rollouts", str(tmp_path / "kept_none")], env={"COLUMNS": "200"})
    assert missing.exit_code == 2 and "rollout.log" in missing.output
    typo = CliRunner().invoke(app, ["rollouts", str(tmp_path / "nowhere")], env={"COLUMNS": "200"})
    assert typo.exit_code == 2 and "no such folder or file" in typo.output
