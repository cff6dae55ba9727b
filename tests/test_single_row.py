"""The compiled one-row decoding step (`generation.single_row`) against the eager model."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from emoreason.generation import SamplingParams, TransformersEngine, single_row
from emoreason.generation.kv_cache import cache_of, preallocate, with_cache
from emoreason.generation.single_row import SingleRowDecoder, layout_supported
from emoreason.models import Conversation, LoadedModel, load_model
from emoreason.testing.fixtures import make_tiny_causal_lm

TEXTS = ["good", "a much longer sentence about a film that was not good at all", "meh!", "I love it"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    # on the CPU wherever the machine has a GPU: the compiled one-row step is a CPU kernel
    return load_model(str(make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")), device="cpu")


def conversations(texts: list[str]) -> list[Conversation]:
    return [Conversation(messages=[{"role": "user", "content": t}]) for t in texts]


def tiny_qwen2() -> Qwen2ForCausalLM:
    """Qwen2 has biases on q/k/v, which the Llama fixture does not."""
    config = Qwen2Config(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # biases are zero at init: make them count
        for layer in model.model.layers:
            for projection in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                projection.bias.normal_(0, 0.5)
    return model


def step_against_forward(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits for one new token after a 7-token prompt: the compiled step and the model's forward."""
    decoder = SingleRowDecoder.build(model)
    assert decoder is not None
    prompt = torch.tensor([[5, 17, 42, 8, 99, 3, 61]])
    with torch.inference_mode():
        cache = cache_of(model(input_ids=prompt, use_cache=True))
        ours_cache = preallocate(copy.deepcopy(cache), 4)
        ours = decoder.step(77, 7, ours_cache)
        theirs = model(input_ids=torch.tensor([[77]]), position_ids=torch.tensor([[7]]), **with_cache(cache)).logits
    assert ours_cache.layers[0].length == 8  # the step wrote its key and value into the cache
    return ours, theirs[:, -1]


def test_step_equals_the_forward_pass_of_a_llama(tiny: LoadedModel) -> None:
    ours, theirs = step_against_forward(tiny.model)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_step_equals_the_forward_pass_of_a_qwen2_with_biases() -> None:
    ours, theirs = step_against_forward(tiny_qwen2())
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("params", [SamplingParams(max_new_tokens=12), SamplingParams(max_new_tokens=12, seed=4)])
def test_engine_gives_the_same_tokens_one_row_at_a_time(
    tiny: LoadedModel, params: SamplingParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = []
    real_step = SingleRowDecoder.step
    monkeypatch.setattr(SingleRowDecoder, "step", lambda self, *a: steps.append(1) or real_step(self, *a))
    convs = conversations(TEXTS)
    eager = TransformersEngine(tiny, batch_size=1, single_row=False).generate(convs, params)
    assert not steps
    compiled = TransformersEngine(tiny, batch_size=1, single_row=True).generate(convs, params)
    assert steps  # the compiled step did the decoding
    assert [c[0].token_ids for c in compiled] == [c[0].token_ids for c in eager]
    torch.testing.assert_close(
        torch.tensor([x for c in compiled for x in c[0].logprobs]),
        torch.tensor([x for c in eager for x in c[0].logprobs]),
        atol=1e-4,
        rtol=1e-4,
    )


def test_auto_uses_the_step_only_for_models_large_enough(tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = TransformersEngine(tiny, batch_size=1)
    assert engine._single_row_decoder() is None  # a tiny model does not repay the compile
    monkeypatch.setattr("emoreason.generation.engine.AUTO_MIN_WEIGHT_BYTES", 0)
    monkeypatch.setattr(single_row, "linear_read_share", lambda model: 0.4)  # F.linear well below memory speed
    assert isinstance(engine._single_row_decoder(), SingleRowDecoder)
    assert TransformersEngine(tiny, single_row=False)._single_row_decoder() is None


def test_auto_decodes_eagerly_where_one_row_products_run_at_memory_speed(
    tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On the AMX Xeon `F.linear` of one row read the weights at memory speed and the compiled step was no
    faster than eager decoding: it cost its compile in every process and bought nothing."""
    probed: list[float] = []

    def share(model: torch.nn.Module) -> float:
        probed.append(0.95)
        return 0.95

    monkeypatch.setattr("emoreason.generation.engine.AUTO_MIN_WEIGHT_BYTES", 0)
    monkeypatch.setattr(single_row, "linear_read_share", share)
    engine = TransformersEngine(tiny, batch_size=1)
    with caplog.at_level(logging.INFO, logger="emoreason.generation.single_row"):
        assert engine._single_row_decoder() is None
        assert engine._single_row_decoder() is None
    assert probed == [0.95]  # measured once per engine
    assert "0.95 of memory speed" in caplog.text and "decode eagerly" in caplog.text
    out = engine.generate(conversations(["good"]), SamplingParams(max_new_tokens=4))
    assert len(out[0][0].token_ids) >= 1
    # asked for by name, the step is used whatever the probe would say
    assert isinstance(TransformersEngine(tiny, single_row=True)._single_row_decoder(), SingleRowDecoder)
    assert probed == [0.95]


def test_the_read_share_compares_one_row_products_with_a_read_of_the_weights(tiny: LoadedModel) -> None:
    share = single_row.linear_read_share(tiny.model, repeats=1)
    assert 0 < share < 100  # a ratio of two timings of the same weights, not a time


def test_layouts_it_does_not_cover(tiny: LoadedModel) -> None:
    from peft import LoraConfig, get_peft_model

    assert layout_supported(tiny.model)
    wrapped = get_peft_model(copy.deepcopy(tiny.model), LoraConfig(r=2, target_modules=["q_proj"]))
    assert not layout_supported(wrapped.base_model.model)  # q_proj is a peft layer, not a plain Linear
    assert SingleRowDecoder.build(wrapped.base_model.model) is None
    other = copy.deepcopy(tiny.model)
    other.config.model_type = "gemma"
    assert not layout_supported(other)
    sliding = tiny_qwen2()
    sliding.config.use_sliding_window = True
    assert not layout_supported(sliding)


def test_a_failed_compile_falls_back_to_eager_decoding(
    tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(single_row, "compiled", lambda: (broken, broken, broken))
    monkeypatch.setattr(single_row, "_FAILURE", [])
    with caplog.at_level(logging.WARNING, logger="emoreason.generation.single_row"):
        assert SingleRowDecoder.build(tiny.model) is None
    assert "no C++ compiler" in caplog.text and "decoding eagerly" in caplog.text
    out = TransformersEngine(tiny, batch_size=1, single_row=True).generate(
        conversations(["good"]), SamplingParams(max_new_tokens=5)
    )
    assert len(out[0][0].token_ids) >= 1
