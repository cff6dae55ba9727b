"""Evaluation inside training: greedy answers on a fixed, seeded sample of validation splits
every N steps, the best step kept as `best/`, and a collapse detector.

    validation = Validation.build(config.validation, format, train_datasets, output_dir, max_new_tokens)
    answers = validation.answer(engine)       # {"vader:movies": [evaluate's records], ...}
    stats = validation.figures(answers)       # {"valid/vader:movies/pearson_r": ..., "valid/collapse": 0.0}

RL on a small policy can raise its training reward while its greedy answers collapse onto one
polarity (the majority of the training pool) and its scores shrink to one value; the training
reward does not show it, the validation answers do. `collapse_reasons` names the symptom.

The sample is `data.random_subset(samples, n, seed)`, the same one `emoreason evaluate --sample
N --seed S` picks, so an in-training figure and a later `evaluate` of the saved adapter agree; the
answers are evaluate's records, which the RL recipe keeps as evaluate folders (`keep_answers`), so
`emoreason compare` pairs two steps of a run on the same sentences.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from emoreason.config_loader import Section
from emoreason.data import load_dataset, random_subset
from emoreason.data.schema import HELD_OUT_SPLITS, Sample, TaskInfo, normalize_label
from emoreason.formats import build_conversation
from emoreason.formats.base import ParseResult, ReasoningFormat
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.inference import audit_record, readout_choice, with_choice
from emoreason.metrics.classification import classification_metrics
from emoreason.metrics.grounding import citation_grounding, grounding_summary
from emoreason.metrics.regression import generic_regression_metrics
from emoreason.metrics.valence import vader_lexicon, valence_check, valence_summary
from emoreason.train.checkpoint import recover_folder, replace_folder
from emoreason.train.loop import TrainingRun
from emoreason.train.weights import save_weights

log = logging.getLogger(__name__)

BEST_DIR = "best"
PREFIX = "valid/"


class ValidationConfig(Section):
    """Greedy answers on validation splits during training (off when `every` is 0)."""

    every: int = Field(0, ge=0, description="Validate every N steps, at step 0 and at the last step; 0: never.")
    datasets: list[str] = Field(
        default_factory=list,
        description="Dataset specs to validate on (e.g. [vader:movies, vader:tweets]); empty: the training datasets.",
    )
    split: str = Field(
        "valid", description="The split answered: best/ and any early stop are chosen on it, so never test."
    )
    allow_test: bool = Field(
        False,
        description="Let `split` be test (or all, which holds it): only to watch a run on a dataset that has no "
        "other split; what best/ then keeps was chosen on test, and its test figures are no report.",
    )
    sample: int = Field(100, ge=1, description="A seeded random N of each dataset's split (as evaluate --sample).")
    seed: int = 0
    max_new_tokens: int | None = Field(None, ge=1, description="Default: rollout.max_new_tokens.")
    dtype: Literal["rollout", "float32"] = Field(
        "rollout",
        description="rollout: decode with the rollout weights (a bf16 copy when rollout.dtype says so; faster); "
        "float32: with the fp32 policy, LoRA merged, as `emoreason evaluate` decodes, so best/ is chosen on the "
        "figures a later evaluate of it gives (some bf16 answers differ from fp32's: RESULTS).",
    )
    ground_quotes: bool = Field(
        False,
        description="Quote only the input's words while decoding, as evaluate does by default "
        "(`generation.quotes`); off: the grounding figures measure the policy's own quoting.",
    )
    at_start: bool = Field(
        True,
        description="Validate the starting weights (step 0) of a fresh run, which best/ can then keep; off when "
        "the start's figures are known (same weights, sample and settings in an earlier run).",
    )
    best_metric: str = Field(
        "mean/pearson_r",
        description="The validation figure that picks best/: '<dataset>/<metric>' or 'mean/<metric>' "
        "(the mean over datasets), e.g. 'vader:movies/pearson_r', 'mean/mae'.",
    )
    best_mode: Literal["max", "min"] = "max"
    score_readout: Literal["confidence", "written"] = Field(
        "confidence",
        description="How answers' scores are read for r, MAE and the 3-class figures, as evaluate reads them "
        "(emoreason.formats.readout); sd_ratio always measures the written scores.",
    )
    collapse_majority_share: float = Field(
        0.85, gt=0.0, le=1.0, description="Collapse: one polarity in more than this share of a dataset's answers."
    )
    collapse_sd_ratio: float = Field(
        0.3, ge=0.0, description="Collapse: predicted-score sd below this fraction of the gold scores' sd."
    )
    collapse_label_share: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Collapse on a label task: one label in more than this share of a dataset's answers.",
    )
    stop_on_collapse: bool = Field(False, description="End the run (after checkpointing) when a collapse is seen.")
    keep_answers: bool = Field(
        True,
        description="Keep each validation's answers as an evaluate folder, OUTPUT_DIR/validation/step-N/<dataset> "
        "(predictions.jsonl and run.json), to read what the policy said at each step and to pair any two steps "
        "with `emoreason compare` (same sentences, paired bootstrap) without generating again.",
    )

    @model_validator(mode="after")
    def _not_on_test(self) -> ValidationConfig:
        if self.split in HELD_OUT_SPLITS and not self.allow_test:
            raise ValueError(
                f"validation.split={self.split} would choose best/ (and an early stop) on the test sentences; "
                "validate on valid, or set validation.allow_test=true to watch a dataset that has no valid split"
            )
        return self


def answer_metrics(
    parsed: Sequence[ParseResult],
    completions: Sequence[str],
    samples: Sequence[Sample],
    task: TaskInfo,
    scores: Sequence[float | None] | None = None,
) -> dict[str, float]:
    """Figures of one dataset's greedy answers, for every task:

    - parse_rate: share of answers parsed whole;
    - positive_share / negative_share / neutral_share: the polarity mix of the answers;
    - citations_grounded_rate, answers_fully_grounded: `metrics.grounding`, each answer checked
      against what its prompt showed (text and cue text);
    - cue_recall: of the words of those inputs that VADER's lexicon rates, the share the answers
      state a number for (`metrics.valence`; NaN where the inputs have none, and on a label task,
      whose chains state no numbers for words);

    then `label_metrics` on a label task, else `score_metrics` (of `scores`, the answers' scores
    as read, by default the parsed ones) and majority_share: the share of the answers that say
    their most frequent polarity (an answer without a polarity counts as its own class, "none")."""
    if not samples or len(parsed) != len(samples) or len(completions) != len(samples):
        raise ValueError(f"{len(parsed)} answers and {len(completions)} completions for {len(samples)} samples")
    sources = [s.source for s in samples]
    grounding = grounding_summary([citation_grounding(c, source) for c, source in zip(completions, sources)])
    cue_recall = float("nan")
    if task.scale is not None:
        lexicon = vader_lexicon()
        words = [s.text or "" for s in samples]  # the lexicon reads the input's own words, not its cue text
        valences = [valence_check(c, p.polarity, lexicon, w) for p, c, w in zip(parsed, completions, words)]
        cue_recall = valence_summary(valences)["valence_cue_recall"]
    polarities = Counter(p.polarity or "none" for p in parsed)
    n = len(parsed)
    common = {
        "parse_rate": sum(p.ok for p in parsed) / n,
        **{f"{name}_share": polarities.get(name, 0) / n for name in ("positive", "negative", "neutral")},
        "citations_grounded_rate": grounding["citations_grounded_rate"],
        "answers_fully_grounded": grounding["answers_fully_grounded"],
        "cue_recall": cue_recall,
    }
    if task.labels:
        return {**common, **label_metrics(parsed, samples, task)}
    figures = score_metrics(parsed, samples, task, scores)
    return {**common, **figures, "majority_share": max(polarities.values()) / n}


def label_metrics(parsed: Sequence[ParseResult], samples: Sequence[Sample], task: TaskInfo) -> dict[str, float]:
    """Against gold labels: war (accuracy), uar, f1_macro (`classification_metrics`; an answer
    without a valid label counts as wrong), `recall_<label>` per gold-present label, and
    majority_share: the share of answers naming their most frequent label (no label is its own
    class, "none", whose share is none_share)."""
    labels = list(task.labels or ())
    figures = classification_metrics([p.label for p in parsed], [s.label or "" for s in samples], labels)
    named = Counter(normalize_label(p.label) if p.label else "none" for p in parsed)
    return {
        "war": figures["war"],
        "uar": figures["uar"],
        "f1_macro": figures["f1_macro"],
        **{f"recall_{label}": float(r) for label, r in figures["per_class_recall"].items()},
        "majority_share": max(named.values()) / len(parsed),
        "none_share": named["none"] / len(parsed),
        "sd_ratio": float("nan"),
    }


def score_metrics(
    parsed: Sequence[ParseResult],
    samples: Sequence[Sample],
    task: TaskInfo,
    scores: Sequence[float | None] | None = None,
) -> dict[str, float]:
    """Against gold scores:

    - pearson_r, mae, f1_3_weighted, acc_3: `generic_regression_metrics` of `scores` (the
      answers' scores as read, `formats.readout`; by default the parsed ones), an answer without
      a score counting as the scale's midpoint (what a neutral guess costs, as in `evaluate`);
    - sd_ratio: sd of the written scores / sd of the gold scores (1 = the spread of the gold;
      near 0 = one score for everything); NaN when the gold is constant. Written, because the
      collapse it detects is the chain's, and the confidence readout shrinks the spread by design.
    """
    if task.scale is None:
        raise ValueError(f"in-training validation needs a scored task; {task.name!r} has no scale")
    midpoint = sum(task.scale) / 2.0

    def as_array(values: Sequence[float | None]) -> np.ndarray:
        return np.array([midpoint if v is None else float(v) for v in values], dtype=np.float64)

    written = as_array([p.score for p in parsed])
    preds = written if scores is None else as_array(scores)
    gold = np.array([float(s.score) for s in samples], dtype=np.float64)  # type: ignore[arg-type]
    figures = generic_regression_metrics(preds, gold, task.scale, task.neutral)
    gold_sd = float(np.std(gold))
    return {
        **{k: figures[k] for k in ("pearson_r", "mae", "f1_3_weighted", "acc_3")},
        "sd_ratio": float(np.std(written)) / gold_sd if gold_sd > 0 else float("nan"),
    }


def collapse_reasons(
    figures: dict[str, dict[str, float]], majority_share: float, sd_ratio: float, label_share: float = 0.5
) -> list[str]:
    """What looks collapsed, per dataset: one polarity above `majority_share` of the answers (one
    label above `label_share` on a label task, whose figures have `war`), or the predicted scores'
    sd below `sd_ratio` times the gold's. Empty when nothing does."""
    reasons = []
    for name, f in figures.items():
        if "war" in f:
            if f["majority_share"] > label_share:
                # the biggest class may be the answers that name no label (unparsed): say that, not "one label"
                unparsed = f.get("none_share", 0.0) >= f["majority_share"]
                what = "name no label (did not parse)" if unparsed else "name one label"
                reasons.append(f"{name}: {f['majority_share']:.0%} of answers {what} (> {label_share:.0%})")
            continue
        if f["majority_share"] > majority_share:
            said = [f[key] for key in ("positive_share", "negative_share", "neutral_share") if key in f]
            # the biggest class may be the answers that say no polarity at all (unparsed): say that, not "one polarity"
            unparsed = bool(said) and max(said) < f["majority_share"]
            what = "say no polarity (did not parse)" if unparsed else "share one polarity"
            reasons.append(f"{name}: {f['majority_share']:.0%} of answers {what} (> {majority_share:.0%})")
        if not math.isnan(f["sd_ratio"]) and f["sd_ratio"] < sd_ratio:
            reasons.append(f"{name}: predicted-score sd is {f['sd_ratio']:.2f} of gold's (< {sd_ratio})")
    return reasons


def flatten(figures: dict[str, dict[str, float]]) -> dict[str, float]:
    """`valid/<dataset>/<metric>` for each dataset, and `valid/mean/<metric>` over the datasets that give
    it: NaN where one of them gives NaN (a dataset whose every answer failed to parse has no r; a mean
    of the others would read it as absent, and could choose that step as `best/`)."""
    flat = {f"{PREFIX}{name}/{k}": float(v) for name, f in figures.items() for k, v in f.items()}
    for k in dict.fromkeys(k for f in figures.values() for k in f):
        values = [float(f[k]) for f in figures.values() if k in f]
        flat[f"{PREFIX}mean/{k}"] = float(np.mean(values)) if values else float("nan")
    return flat


def short_name(spec: str, taken: Collection[str] = ()) -> str:
    """How a validation dataset is named in the logged keys: `kind:target` without the options and
    with only the last part of a path (`ravdess:/data/ravdess16k?cues=only` -> `ravdess:ravdess16k`),
    so the key `valid/<name>/<figure>` has exactly two slashes; `#2`, `#3`, ... when taken."""
    from emoreason.data.spec import parse_spec

    parsed = parse_spec(spec)
    target = parsed.target.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1] or parsed.target
    name, number = f"{parsed.kind}:{target}", 1
    while (f"{name}#{number}" if number > 1 else name) in taken:
        number += 1
    return f"{name}#{number}" if number > 1 else name


def is_better(value: float, best: float | None, mode: str) -> bool:
    """Whether `value` beats `best` (None: nothing yet) in direction `mode`; NaN never does."""
    if math.isnan(value):
        return False
    return best is None or (value > best if mode == "max" else value < best)


@dataclass
class Validation:
    """The fixed validation sample and what the run has seen of it so far (the best value)."""

    config: ValidationConfig
    format: ReasoningFormat
    sets: dict[str, tuple[list[Sample], TaskInfo]]
    output_dir: Path
    max_new_tokens: int
    best: float | None = None  # read from best/best.json when first needed (`_best_so_far`)
    specs: dict[str, str] = field(default_factory=dict)  # dataset name -> its spec, as given
    _best_read: bool = False

    @classmethod
    def build(
        cls,
        config: ValidationConfig,
        format: ReasoningFormat,
        train_datasets: str | Sequence[str],
        output_dir: str | Path,
        max_new_tokens: int,
        train_task: TaskInfo | None = None,
    ) -> Validation:
        """The validation sets `config` names (else the training datasets' `config.split`). With `train_task`,
        a set that answers another task (another scale or label set) is refused: a recipe's validation
        datasets stayed its own when only `data.dataset` was given, and best/ was chosen on them."""
        specs = config.datasets or ([train_datasets] if isinstance(train_datasets, str) else list(train_datasets))
        sets, given = {}, {}
        for spec in specs:
            name = short_name(spec, taken=sets)
            dataset = load_dataset(spec)
            gold = (lambda s: s.label is not None) if dataset.task.labels else (lambda s: s.score is not None)
            samples = [s for s in dataset.split(config.split) if gold(s)]
            if not samples:
                raise ValueError(
                    f"validation: {spec} has no samples with gold answers in split {config.split!r}; give it one "
                    "(validation.datasets names others), or validate nothing: validation.every=0"
                )
            if train_task is not None and not dataset.task.asks_as(train_task):
                raise ValueError(
                    f"validation: {spec} answers {dataset.task.asked}, the training data {train_task.asked}; "
                    "validate on the training data's own valid split (validation.datasets=[]), name datasets of "
                    "its task, or validate nothing (validation.every=0)"
                )
            sets[name] = (random_subset(samples, config.sample, config.seed), dataset.task)
            given[name] = spec
        max_new_tokens = config.max_new_tokens or max_new_tokens
        return cls(config, format, sets, Path(output_dir), max_new_tokens, specs=given)

    @property
    def chosen_by(self) -> dict[str, Any]:
        """The settings a best value is measured with: values under other ones are not comparable."""
        kept = ("split", "sample", "seed", "dtype", "ground_quotes", "best_metric", "best_mode", "score_readout")
        return {
            "datasets": sorted(self.specs.values()),
            "max_new_tokens": self.max_new_tokens,
            **{name: getattr(self.config, name) for name in kept},
        }

    def _best_so_far(self) -> float | None:
        """The best value recorded in best/best.json, so a resumed run keeps its best; read when first
        needed, after the run has started (a fresh start moves an earlier run's best/ away first). A best/
        measured with other validation settings (another metric, sample, datasets, ...) is moved aside to
        `best.step-N-other-settings/` and not compared with: its value measures something else."""
        best = self.output_dir / BEST_DIR
        recover_folder(best, "best.json")
        if not (best / "best.json").is_file():
            return None
        record = json.loads((best / "best.json").read_text())
        if "chosen_by" in record:
            same = record["chosen_by"] == self.chosen_by
        else:  # written before best.json recorded its settings: its metric is all there is to compare
            same = record.get("metric") == self.config.best_metric
        if not same:
            aside = best.with_name(f"{BEST_DIR}.step-{record.get('step')}-other-settings")
            shutil.rmtree(aside, ignore_errors=True)
            best.rename(aside)
            log.warning(
                "best/ was chosen with other validation settings; it is moved to %s, and a new best/ begins", aside
            )
            return None
        return float(record["value"])

    @property
    def best_key(self) -> str:
        return PREFIX + self.config.best_metric

    def due(self, step: int, max_steps: int) -> bool:
        every = self.config.every
        return bool(every) and (step == 0 or step == max_steps or step % every == 0)

    @property
    def params(self) -> SamplingParams:
        """How the validation decodes: greedy, as evaluate does."""
        return SamplingParams(
            max_new_tokens=self.max_new_tokens,
            temperature=0.0,
            stop_strings=self.format.stop_strings,
            ground_quotes=self.config.ground_quotes,
        )

    @torch.no_grad()
    def answer(self, engine: GenerationBackend, model_name: str = "policy") -> dict[str, list[dict[str, Any]]]:
        """Greedy answers on every validation set, as evaluate's records (`inference.audit_record`,
        the score read with `config.score_readout`, plus `gold_score` and `gold_label`), by dataset."""
        fmt, answers = self.format, {}
        for name, (samples, task) in self.sets.items():
            conversations = [build_conversation(s, fmt, task, cues=s.cues) for s in samples]
            choice = readout_choice(engine, fmt, task, self.config.score_readout)
            started = time.perf_counter()
            completions = [out[0] for out in engine.generate(conversations, with_choice(self.params, choice))]
            latency = (time.perf_counter() - started) / len(samples)
            answers[name] = [
                audit_record(s, c, fmt, task, model_name, latency, choice=choice)
                | {"gold_score": s.score, "gold_label": s.label}
                for s, c in zip(samples, completions, strict=True)
            ]
        return answers

    def figures(self, answers: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
        """The answers' figures (`answer_metrics`), flattened, and `valid/collapse` (1.0 when
        `collapse_reasons` found something, which is also logged as a warning)."""
        figures = {}
        for name, records in answers.items():
            samples, task = self.sets[name]
            texts = [r["raw_completion"] for r in records]
            parsed = [
                self.format.parse(r["raw_completion"], task, cut=r.get("finish_reason") == "length") for r in records
            ]
            figures[name] = answer_metrics(parsed, texts, samples, task, [r["score"] for r in records])
        stats = flatten(figures)
        config = self.config
        reasons = collapse_reasons(
            figures, config.collapse_majority_share, config.collapse_sd_ratio, config.collapse_label_share
        )
        stats[PREFIX + "collapse"] = float(bool(reasons))
        if reasons:
            log.warning("validation sees a collapse: %s", "; ".join(reasons))
        return stats

    def keep_if_best(
        self,
        stats: dict[str, float],
        step: int,
        model: torch.nn.Module,
        processor: Any = None,
        settings: Mapping[str, str] | None = None,
    ) -> bool:
        """Save the weights as best/ (with best.json: step, metric, value, all figures) when the
        best metric improved. Returns whether it did."""
        if self.best_key not in stats:
            known = ", ".join(sorted(k[len(PREFIX) :] for k in stats if k.startswith(PREFIX)))
            raise ValueError(f"validation.best_metric {self.config.best_metric!r} is not a figure; known: {known}")
        value = stats[self.best_key]
        if not self._best_read:
            self.best, self._best_read = self._best_so_far(), True
        if math.isnan(value) and self.best is None:  # else the run ends with no best/ and nothing says why
            log.warning(
                "validation.best_metric %s is NaN at step %d (e.g. no answer parsed): best/ is not written until "
                "it is a number",
                self.config.best_metric,
                step,
            )
        if not is_better(value, self.best, self.config.best_mode):
            return False
        best, tmp = self.output_dir / BEST_DIR, self.output_dir / (BEST_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_weights(model, tmp, processor, settings)
        figures = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in stats.items()}
        record = {
            "step": step,
            "metric": self.config.best_metric,
            "value": value,
            "figures": figures,
            "chosen_by": self.chosen_by,
        }
        (tmp / "best.json").write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")  # written last
        replace_folder(tmp, best)
        self.best = value
        return True


class ValidationHook:
    """Validation wired into a run: `at_start()` validates the starting weights (step 0) of a
    fresh run (unless `at_start` is off); the hook itself is a `TrainingRun.run_steps`
    after_step that validates when due, keeps best/, and asks to stop on a collapse when
    `stop_on_collapse`. Only the main process generates; with several processes the stop
    decision is the main process's.
    `engine()` is a context manager that yields the generation engine on the current weights;
    `keep_answers(step, answers)`, when given and `keep_answers` is on, receives each
    validation's answers by dataset (`Validation.answer`)."""

    def __init__(
        self,
        validation: Validation,
        run: TrainingRun,
        max_steps: int,
        engine: Callable[[], AbstractContextManager[GenerationBackend]],
        model: torch.nn.Module,
        processor: Any = None,
        keep_answers: Callable[[int, dict[str, list[dict[str, Any]]]], None] | None = None,
    ):
        self.validation, self.run, self.max_steps = validation, run, max_steps
        self.engine, self.model, self.processor = engine, model, processor
        self.keep_answers = keep_answers if validation.config.keep_answers else None

    def still_stops(self) -> bool:
        """Whether a run this hook ended early (on a collapse) stays ended when rerun: while
        stop_on_collapse is on (`TrainingRun.run_steps`)."""
        return self.validation.config.stop_on_collapse

    def validate(self) -> dict[str, float]:
        if not self.run.is_main:
            return {}
        with self.engine() as backend:
            answers = self.validation.answer(backend, f"{self.validation.output_dir.name} step {self.run.step}")
        if self.keep_answers is not None:
            self.keep_answers(self.run.step, answers)
        stats = self.validation.figures(answers)
        self.validation.keep_if_best(stats, self.run.step, self.model, self.processor, self.run.adapter_settings)
        return stats

    def at_start(self) -> dict[str, Any] | None:
        """Validate the starting weights of a fresh run (`at_start`); the step-0 log record, or None."""
        if self.run.step == 0 and self.validation.config.at_start and self.validation.due(0, self.max_steps):
            return self.run.log(self.validate())
        return None

    def __call__(self, stats: dict[str, float]) -> bool:
        if not self.validation.due(self.run.step, self.max_steps):
            return False
        stats.update(self.validate())
        stop = bool(stats.get(PREFIX + "collapse")) and self.validation.config.stop_on_collapse
        if self.run.world > 1:
            from accelerate.utils import broadcast_object_list

            stop = bool(broadcast_object_list([stop])[0])
        return stop


__all__ = [
    "BEST_DIR",
    "Validation",
    "ValidationConfig",
    "answer_metrics",
    "collapse_reasons",
    "flatten",
    "is_better",
    "label_metrics",
    "score_metrics",
    "short_name",
    "ValidationHook",
]
