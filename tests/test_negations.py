"""Naming a negation the chain's own cue list applies (`generation.negations`)."""

from __future__ import annotations

import pytest
import torch

from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.generation import engine as engine_module
from emoreason.generation.negations import NegationNaming, input_negations, negation_to_name, quote_constraint
from emoreason.generation.quotes import GroundedQuotes
from emoreason.metrics.evidence import cue_statements
from emoreason.models import Conversation, LoadedModel, load_model
from emoreason.testing.fixtures import make_tiny_causal_lm

EXAMPLE = "Not bad at all, though the sequel felt a little rushed."
NEGATIONS = input_negations(EXAMPLE)
HEAD = "<polarity>positive</polarity>\n<think>\nText: "


def test_input_negations_follow_vader_window_and_spelling() -> None:
    # the three words after "Not" (VADER's window), with the negation as written; "Not" itself left out
    assert NEGATIONS == {"bad": "Not", "at": "Not", "all": "Not"}
    assert input_negations("It isn't good, and it was never boring.") == {
        "good": "isn't",
        "and": "isn't",
        "it": "isn't",  # "was" stands after "never": not negated
        "boring": "never",
    }
    assert input_negations("A fine film.") == {}


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        # the example: a negative number under Positive cues, the word negated in the input
        (HEAD + 'Positive cues: "bad" (-2.5', '), negated by "Not" so it reads +'),
        # a later item of the same list
        (HEAD + 'Positive cues: "great" (+3.1); "bad" (-2.5', '), negated by "Not" so it reads +'),
        # the opposite case, a positive number under Negative cues
        ('Negative cues: "at" (+0.4', '), negated by "Not" so it reads -'),
        # the list agrees with the number: naming the negation would contradict the list
        (HEAD + 'Negative cues: "bad" (-2.5', None),
        # not yet a one-decimal number, or already past it
        (HEAD + 'Positive cues: "bad" (-2.', None),
        (HEAD + 'Positive cues: "bad" (-2.5)', None),
        (HEAD + 'Positive cues: "bad" (-2.55', None),
        # a word the input does not negate
        (HEAD + 'Positive cues: "rushed" (-1.2', None),
        # a quote that heads no list item
        (HEAD + 'The word "bad" (-2.5', None),
        # a zero has no sign to contradict
        (HEAD + 'Positive cues: "bad" (0.0', None),
    ],
)
def test_negation_to_name(chain: str, expected: str | None) -> None:
    assert negation_to_name(chain, NEGATIONS) == expected


def test_a_forced_clause_reads_as_the_teacher_writes_it() -> None:
    """What the evidence reader makes of a chain completed by the clause: the negation named, the
    stated number kept, the reading on the list's side."""
    chain = HEAD + 'Positive cues: "bad" (-2.5'
    completed = chain + negation_to_name(chain, NEGATIONS) + "1.8)."
    statement, negator = cue_statements(completed)
    assert negator.quote == "Not" and negator.stated is None
    assert (statement.quote, statement.stated, statement.negated_by, statement.reads) == ("bad", -2.5, "Not", 1.8)
    assert statement.listed == 1 and statement.direction == 1


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return load_model(str(make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")))


def ids(loaded: LoadedModel, text: str) -> list[int]:
    return list(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])


def forced_token(masked: torch.Tensor) -> int | None:
    finite = torch.isfinite(masked).nonzero().flatten().tolist()
    return finite[0] if len(finite) == 1 else None


def test_state_forces_the_clause_once_then_lets_go(tiny: LoadedModel) -> None:
    naming = NegationNaming(tiny.tokenizer, [EXAMPLE, None])
    for token in ids(tiny, 'Positive cues: "bad" (-2.5'):
        for row in range(2):
            naming.advance(row, token)
    clause = ids(tiny, '), negated by "Not" so it reads +')
    vocabulary = len(naming.texts)
    seen = []
    for _ in clause:
        masked = naming.mask(torch.zeros(2, vocabulary), [0, 1])
        assert not torch.isinf(masked[1]).any()  # a row without evidence is never forced
        seen.append(forced_token(masked[0]))
        for row in range(2):
            naming.advance(row, seen[-1])
    assert seen == clause
    assert naming.chain[0].endswith('"bad" (-2.5), negated by "Not" so it reads +')
    assert forced_token(naming.mask(torch.zeros(1, vocabulary), [0])) is None  # then the model goes on
    # the negation is quoted as the input writes it
    assert NegationNaming(tiny.tokenizer, [EXAMPLE.lower()]).negations[0]["bad"] == "not"


def test_each_cue_is_named_once_per_row(tiny: LoadedModel) -> None:
    naming = NegationNaming(tiny.tokenizer, [EXAMPLE])
    naming.named[0].add("bad")  # as after a first clause for "bad"
    for token in ids(tiny, 'Positive cues: "bad" (-2.5'):
        naming.advance(0, token)
    assert naming.forced[0] == []


def test_quote_constraint_picks_the_class(tiny: LoadedModel) -> None:
    assert type(quote_constraint(tiny.tokenizer, [EXAMPLE])) is GroundedQuotes
    assert type(quote_constraint(tiny.tokenizer, [EXAMPLE], name_negations=True)) is NegationNaming


def scripted_choice(script: list[int]):
    """choose_tokens that writes `script` token by token, except where the mask leaves one token
    other than the script's next (a forced clause): then it takes that one and holds its place in the
    script. (A quote may leave one token that is the script's own: "b" of "bad", the only piece of the
    tiny vocabulary that goes toward the rated word a cue list owes.)"""
    position = [0]

    def choose(logits: torch.Tensor, *args, **kwargs):
        finite = torch.isfinite(logits[0]).nonzero().flatten().tolist()
        if len(finite) == 1 and finite[0] != script[min(position[0], len(script) - 1)]:
            token = finite[0]
        else:
            token = script[min(position[0], len(script) - 1)]
            position[0] += 1
        return torch.tensor([token]), torch.zeros(1)

    return choose


@pytest.mark.parametrize("name", [True, False])
def test_engine_names_the_negation(tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch, name: bool) -> None:
    script = ids(tiny, 'Positive cues: "bad" (-2.5') + ids(tiny, "1.9).") + [tiny.tokenizer.eos_token_id]
    monkeypatch.setattr(engine_module, "choose_tokens", scripted_choice(script))
    conversation = Conversation(messages=[{"role": "user", "content": EXAMPLE}], evidence=EXAMPLE)
    params = SamplingParams(max_new_tokens=160, ground_quotes=True, name_negations=name)
    (completion,) = TransformersEngine(tiny).generate([conversation], params)[0]
    if name:
        assert completion.text.startswith('Positive cues: "bad" (-2.5), negated by "Not" so it reads +1.9).')
    else:  # the same script without the option: the chain as the model wrote it, but for the item's
        # number, which grounded quoting closes as the lexicon's (-2.5)
        assert completion.text.startswith('Positive cues: "bad" (-2.5)1.9).')


@pytest.mark.parametrize(
    ("ground", "name", "recorded"), [(True, False, False), (True, True, True), (False, True, False)]
)
def test_run_identity_records_the_option_where_it_acts(ground: bool, name: bool, recorded: bool) -> None:
    """A resumed evaluation must not mix answers made with and without it; alone (no grounded
    quotes) it changes nothing, so it is not recorded then."""
    from emoreason.data.schema import resolve_task
    from emoreason.eval.run_identity import run_identity

    params = SamplingParams(ground_quotes=ground, name_negations=name)
    identity = run_identity(
        model="m", format_name="c2f", task=resolve_task("vader"), params=params, dataset="d", split="valid"
    )
    assert ("name_negations" in identity) is recorded


def test_the_product_names_negations_by_default() -> None:
    """Chosen by docs/results/negation_naming's rule: on wherever grounded quoting is."""
    import inspect

    from emoreason.api import Explainer, evaluate
    from emoreason.serve import ServeSettings

    assert inspect.signature(evaluate).parameters["name_negations"].default is True
    assert inspect.signature(Explainer).parameters["name_negations"].default is True
    assert inspect.signature(Explainer.load).parameters["name_negations"].default is True
    assert ServeSettings().name_negations is True
