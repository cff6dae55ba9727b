"""`vader:tweets|movies|products`: the VADER ICWSM-2014 human-rated sets, shipped in the package.

Each `<domain>_GroundTruth.txt` line is `id<TAB>mean<TAB>text` (CRLF, UTF-8); the matching
`_anonDataRatings.txt` line is `id<TAB>mean<TAB>std<TAB>[raw ratings]`. The split is ours:
per domain, ids sorted, shuffled with `numpy.random.default_rng(SPLIT_SEED)`, then 80/10/10
into train/valid/test. It never changes between releases, so results stay comparable.
"""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import numpy as np

from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import Sample, vader_task
from emoreason.data.spec import DatasetSpec
from emoreason.data.text import NotUtf8Error, decode_utf8

DOMAIN_FILES = {"tweets": "tweets", "movies": "movieReviewSnippets", "products": "amazonReviewSnippets"}
SPLIT_SEED = 2014
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
DEFAULT_NEUTRAL = 0.5


def vader_dir() -> Path:
    return Path(str(resources.files("emoreason") / "resources" / "vader_icwsm2014"))


def _read_lines(path: Path, report: LoadReport, strict: bool) -> list[tuple[int, str]]:
    """Lines of a CRLF text file, with a leading BOM removed; undecodable lines are bad rows."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    out = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            out.append((number, decode_utf8(line, number)))
        except NotUtf8Error as err:
            report.bad(BadRow(str(path), number, "text", "undecodable text", f"not UTF-8: {err.detail}"), strict)
    return out


def split_assignment(ids: list[str], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Deterministic 80/10/10 split of a domain's ids."""
    order = sorted(ids)
    rng = np.random.default_rng(seed)
    shuffled = [order[i] for i in rng.permutation(len(order))]
    n_train = int(round(SPLIT_FRACTIONS[0] * len(order)))
    n_valid = int(round(SPLIT_FRACTIONS[1] * len(order)))
    assignment = {}
    for index, sample_id in enumerate(shuffled):
        assignment[sample_id] = "train" if index < n_train else ("valid" if index < n_train + n_valid else "test")
    return assignment


def load_domain(domain: str, strict: bool, neutral: float, directory: Path | None = None) -> Dataset:
    if domain not in DOMAIN_FILES:
        raise DataError(f"unknown VADER domain {domain!r}; use one of {', '.join(DOMAIN_FILES)}")
    directory = directory or vader_dir()
    truth_path = directory / f"{DOMAIN_FILES[domain]}_GroundTruth.txt"
    ratings_path = directory / f"{DOMAIN_FILES[domain]}_anonDataRatings.txt"
    report = LoadReport(source=f"vader:{domain}")

    rater_stats: dict[str, tuple[float, int]] = {}
    if ratings_path.exists():
        for number, line in _read_lines(ratings_path, report, strict):
            fields = line.split("\t")
            try:
                ratings = ast.literal_eval(fields[3])
                rater_stats[fields[0].strip()] = (float(fields[2]), len(ratings))
            except (IndexError, ValueError, SyntaxError):
                report.warnings.append(f"{ratings_path}:{number}: unreadable rater statistics, std/raters omitted")

    rows: list[tuple[str, float, str]] = []
    for number, line in _read_lines(truth_path, report, strict):
        report.rows_read += 1
        fields = line.split("\t", 2)
        if len(fields) < 3 or not fields[2].strip():
            report.bad(BadRow(str(truth_path), number, "text", "missing text"), strict)
            continue
        try:
            score = float(fields[1])
        except ValueError:
            report.bad(BadRow(str(truth_path), number, "score", "unparsable score", repr(fields[1])), strict)
            continue
        rows.append((fields[0].strip(), score, fields[2].strip()))

    splits = split_assignment([r[0] for r in rows])
    samples = []
    for sample_id, score, text in rows:
        meta: dict[str, object] = {}
        if sample_id in rater_stats:
            meta["rating_std"], meta["n_raters"] = rater_stats[sample_id]
        samples.append(
            Sample(
                id=f"{domain}/{sample_id}", text=text, score=score, split=splits[sample_id], domain=domain, meta=meta
            )
        )
    report.rows_kept = len(samples)
    return Dataset(spec=f"vader:{domain}", task=vader_task(domain, neutral), samples=samples, report=report)


@register(
    "vader",
    "vader:tweets|movies|products",
    "VADER ICWSM-2014 human-rated sentences (-4..+4, 20 or more raters each), shipped; seeded 80/10/10 split",
    {"neutral": f"half-width W of the neutral band on -4..4, 0 to 4 (default {DEFAULT_NEUTRAL}: |score| < 0.5)"},
)
def load_vader(spec: DatasetSpec, strict: bool) -> Dataset:
    task = vader_task(spec.target)  # its scale, within which the band must stay
    assert task.scale is not None
    neutral = spec.neutral_width(task.scale, task.name, DEFAULT_NEUTRAL)
    dataset = load_domain(spec.target, strict, neutral)
    dataset.spec = str(spec)
    return dataset
