"""Adapter soups (`emoreason.models.soup`, `emoreason average`): the average of LoRA adapters is
the average of their weight changes, checked against merging each adapter on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from emoreason.models import load_model
from emoreason.models.soup import SOUP_RECORD, average_adapters, check_soup_inputs
from emoreason.provenance import file_sha256


def _random_adapter(model_dir: Path, folder: Path, seed: int, targets: list[str] | None = None) -> Path:
    """A LoRA adapter whose A and B are both random (peft's default starts B at 0: no change)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=targets or "all-linear", init_lora_weights=False)
    model = get_peft_model(load_model(str(model_dir), adapters="none").model, config)
    model.save_pretrained(folder)
    return folder


def _linear_weights(model_dir: Path, adapters: list[Path] | str) -> dict[str, torch.Tensor]:
    model = load_model(
        str(model_dir),
        adapters=[str(a) for a in adapters] if isinstance(adapters, list) else adapters,
        device="cpu",  # fp32, as the soup is computed: a GPU's bf16 would round the merged weights
    )
    return {
        name: module.weight.detach().clone()
        for name, module in model.model.named_modules()
        if isinstance(module, torch.nn.Linear)
    }


@pytest.fixture(scope="module")
def two_adapters(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("soup")
    lm = tiny_models["causal_lm"]
    return _random_adapter(lm, root / "a", seed=1), _random_adapter(lm, root / "b", seed=2)


def test_the_soup_merges_to_the_weighted_mean_of_the_adapters_weight_changes(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    lm, (a, b) = tiny_models["causal_lm"], two_adapters
    base, with_a, with_b = _linear_weights(lm, "none"), _linear_weights(lm, [a]), _linear_weights(lm, [b])
    out = average_adapters([a, b], tmp_path / "soup", weights=[3, 1], model=str(lm))
    soup = _linear_weights(lm, [out])
    changed = 0
    for name, weight in base.items():
        expected = weight + 0.75 * (with_a[name] - weight) + 0.25 * (with_b[name] - weight)
        assert torch.allclose(soup[name], expected, atol=1e-6), name
        changed += int(not torch.allclose(with_a[name], weight))
    assert changed > 0  # the adapters do change the weights, so the check above is not vacuous
    record = json.loads((out / SOUP_RECORD).read_text())
    assert record["weights"] == [0.75, 0.25] and record["rank"] == 4  # two rank-2 adapters, stacked
    # each part named by its weights' digest too, which holds wherever the folders are moved to
    assert record["adapter_sha256"] == [file_sha256(f / "adapter_model.safetensors") for f in (a, b)]
    assert record["adapter_sha256"][0] != record["adapter_sha256"][1]


def test_a_negative_weight_extrapolates_the_second_adapters_move_from_the_first(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    lm, (start, run) = tiny_models["causal_lm"], two_adapters
    with_start, with_run = _linear_weights(lm, [start]), _linear_weights(lm, [run])
    out = average_adapters([start, run], tmp_path / "twice", weights=[-1, 2], model=str(lm))
    twice = _linear_weights(lm, [out])
    for name, weight in with_run.items():
        # run + (run - start): the base weight cancels out of the difference
        assert torch.allclose(twice[name], weight + (weight - with_start[name]), atol=1e-5), name
    assert json.loads((out / SOUP_RECORD).read_text())["weights"] == [-1.0, 2.0]


def test_a_low_rank_soup_of_one_adapter_twice_is_that_adapter(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    lm, (a, _) = tiny_models["causal_lm"], two_adapters
    out = average_adapters([a, a], tmp_path / "svd", rank=2, model=str(lm))
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 2
    soup, alone = _linear_weights(lm, [out]), _linear_weights(lm, [a])
    for name, weight in alone.items():
        assert torch.allclose(soup[name], weight, atol=1e-5), name


def test_what_cannot_be_averaged_is_refused_with_the_reason(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_adapters
    with pytest.raises(ValueError, match="at least two adapters"):
        check_soup_inputs([a], None)
    with pytest.raises(ValueError, match="3 weights for 2 adapters"):
        check_soup_inputs([a, b], [1, 1, 1])
    with pytest.raises(ValueError, match="weights must sum to more than 0"):
        check_soup_inputs([a, b], [1, -1])
    with pytest.raises(ValueError, match="finite"):
        check_soup_inputs([a, b], [1, float("nan")])
    with pytest.raises(FileNotFoundError, match="no adapter_config.json"):
        check_soup_inputs([a, tmp_path], None)
    only_q = _random_adapter(tiny_models["causal_lm"], tmp_path / "q", seed=3, targets=["q_proj"])
    with pytest.raises(ValueError, match="target_modules"):
        check_soup_inputs([a, only_q], None)
    assert check_soup_inputs([a, b], None) == [0.5, 0.5]


def test_the_average_command_writes_a_loadable_adapter_and_names_bad_weights(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from emoreason.cli.main import app

    lm, (a, b) = str(tiny_models["causal_lm"]), two_adapters
    out = tmp_path / "soup"
    result = CliRunner().invoke(app, ["average", str(a), str(b), "--out", str(out), "--model", lm])
    assert result.exit_code == 0, result.output
    assert json.loads((out / SOUP_RECORD).read_text())["adapters"] == [str(a), str(b)]
    assert load_model(lm, adapters=[str(out)]).adapters == [str(out)]
    result = CliRunner().invoke(app, ["average", str(a), str(b), "--out", str(out), "--weights", "-1,2", "--model", lm])
    assert result.exit_code == 0, result.output  # a value that starts with "-" is still --weights' value
    assert json.loads((out / SOUP_RECORD).read_text())["weights"] == [-1.0, 2.0]
    result = CliRunner().invoke(app, ["average", str(a), str(b), "--out", str(out), "--weights", "1,x", "--model", lm])
    assert result.exit_code == 2 and "--weights '1,x'" in result.output
    result = CliRunner().invoke(app, ["average", str(a), "--out", str(out), "--model", lm])
    assert result.exit_code == 2 and "at least two adapters" in result.output
    unexpanded = f"{a.parent}/checkpoint-{{10,20}}/adapter"  # what /bin/sh passes on for a brace list
    result = CliRunner().invoke(app, ["average", unexpanded, "--out", str(out), "--model", lm])
    assert result.exit_code == 2 and "checkpoint-{10,20}/adapter has no" in result.output


def test_the_soup_takes_the_settings_its_parts_share_but_never_their_score_lines(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    """A soup of two adapters with fitted lines used to lose every setting silently, and `analyze` then
    read its scores off another readout than its parts'."""
    import shutil

    from typer.testing import CliRunner

    from emoreason.cli.main import app
    from emoreason.models.shipped import AdapterSettings

    lm = str(tiny_models["causal_lm"])
    parts = []
    for name, folder in zip("ab", two_adapters):
        part = shutil.copytree(folder, tmp_path / name)
        (part / "line.json").write_text("{}")
        (part / "cues.json").write_text('{"same": true}')
        settings = {"format": "c2f", "task": "vader", "score_fit": "line.json", "cue_reference": "cues.json"}
        (part / "emoreason.json").write_text(json.dumps(settings))
        parts.append(part)
    out = tmp_path / "soup"
    result = CliRunner().invoke(app, ["average", *map(str, parts), "--out", str(out), "--model", lm])
    assert result.exit_code == 0, result.output
    assert "fitted score lines and the soup does not" in " ".join(result.output.split())
    settings = AdapterSettings.read(out)
    assert (settings.format, settings.task, settings.score_fit) == ("c2f", "vader", None)
    assert settings.cue_reference == out / "cues.json" and settings.cue_reference.read_text() == '{"same": true}'
    # parts trained for different tasks: the soup takes no settings, and says so
    (parts[1] / "emoreason.json").write_text(json.dumps({"format": "c2f", "task": "mikels"}))
    other = tmp_path / "other"
    average_adapters(parts, other, model=lm)
    assert AdapterSettings.read(other) == AdapterSettings()
    assert any("different settings" in note for note in json.loads((other / SOUP_RECORD).read_text())["notes"])


def test_a_shipped_adapter_is_averaged_by_its_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`average sentiment sentiment` said "sentiment has no adapter_config.json"; `--adapter` takes the name."""
    import emoreason.models.soup as soup

    class Reached(Exception):
        pass

    def stop(*args: object, **kwargs: object) -> None:
        raise Reached  # the names resolved and passed the checks: the base model would load next

    monkeypatch.setattr(soup, "load_model", stop)
    with pytest.raises(Reached):
        average_adapters(["sentiment", "sentiment"], tmp_path / "soup")


def test_a_soup_never_keeps_what_it_is_not_and_never_writes_over_its_parts(
    tiny_models: dict[str, Path], two_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    """An earlier soup's emoreason.json (its fitted line) outlived a soup of disagreeing parts written in its
    folder; `--out` naming a part wrote over it and recorded the soup's own digest as the part's; an rsLoRA
    soup came out sqrt(r) times too large."""
    import shutil

    from emoreason.models.shipped import AdapterSettings

    lm = str(tiny_models["causal_lm"])
    a, b = (shutil.copytree(folder, tmp_path / name) for name, folder in zip("ab", two_adapters))
    out = tmp_path / "soup"
    average_adapters([a, b], out, model=lm)
    (out / "line.json").write_text("{}")
    (out / "emoreason.json").write_text(json.dumps({"score_fit": "line.json"}))  # that soup's line, fitted
    (b / "emoreason.json").write_text(json.dumps({"task": "mikels"}))  # a and b disagree: the soup takes none
    average_adapters([a, b], out, model=lm)
    assert AdapterSettings.read(out) == AdapterSettings()
    by_path = average_adapters([a, b], tmp_path / "by_path", model=Path(lm))  # a Path failed after writing
    assert json.loads((by_path / SOUP_RECORD).read_text())["model"] == lm
    kept = shutil.copytree(a, tmp_path / "kept")  # an adapter folder of its own, not a part
    with pytest.raises(ValueError, match="holds files and no earlier soup"):
        average_adapters([a, b], kept, model=lm)
    assert file_sha256(kept / "adapter_model.safetensors") == file_sha256(a / "adapter_model.safetensors")
    digest = file_sha256(a / "adapter_model.safetensors")
    with pytest.raises(ValueError, match="one of the adapters averaged"):
        average_adapters([a, b], a, model=lm)
    assert file_sha256(a / "adapter_model.safetensors") == digest
    config = json.loads((a / "adapter_config.json").read_text())
    (a / "adapter_config.json").write_text(json.dumps({**config, "use_rslora": True}))
    with pytest.raises(ValueError, match="sets use_rslora: averaging takes plain LoRA adapters only"):
        check_soup_inputs([a, b], None)
