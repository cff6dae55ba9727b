"""`images:DIR`: an image folder `<root>/<label>/<file>` (or `<root>/<split>/<label>/<file>`)."""

from __future__ import annotations

from pathlib import Path

from emoreason.data.adapters._rows import SPLIT_ALIASES, TASK_OPTIONS
from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import Sample, TaskInfo, label_polarity_map, normalize_label
from emoreason.data.spec import DatasetSpec

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def _folders(parent: Path) -> list[Path]:
    """The folders in `parent`, hidden ones (`.ipynb_checkpoints`, `.git`) aside: beside train/ and test/
    one of them made the adapter read the split folders as labels."""
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


@register(
    "images",
    "images:DIR",
    "image folder DIR/<label>/<image> or DIR/<split>/<label>/<image>; Mikels labels get their valence",
    {
        "labels": "comma-separated label set; folders outside it are reported as bad rows",
        "polarity": TASK_OPTIONS["polarity"],
        "name": "task name used in reports (default: the folder name)",
    },
)
def load_images(spec: DatasetSpec, strict: bool) -> Dataset:
    root = Path(spec.target).expanduser()
    if not root.is_dir():
        raise DataError("image folder does not exist", file=str(root))
    report = LoadReport(source=str(spec))
    top = _folders(root)
    splits = {p.name: SPLIT_ALIASES.get(p.name.lower()) for p in top}
    if top and all(splits.values()):  # train/ val/ test/, as many image sets name them
        split_dirs = [(splits[p.name] or "test", p) for p in top]
    else:
        split_dirs = [("test", root)]  # no split folders: everything counts as test data
        looks = sorted(name for name, split in splits.items() if split)
        if looks:
            report.warnings.append(
                f"folder(s) {', '.join(looks)} look like splits but {', '.join(n for n, s in splits.items() if not s)} "
                "do not: every top folder is read as a label, and all images count as test data"
            )
    allowed = spec.list_option("labels")
    allowed_norm = {normalize_label(x) for x in allowed} if allowed else None
    samples: list[Sample] = []
    found_labels: set[str] = set()
    for split, split_dir in split_dirs:
        for label_dir in _folders(split_dir):
            label = label_dir.name
            for file in sorted(label_dir.iterdir()):
                if not file.is_file():
                    continue
                report.rows_read += 1
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    report.bad(BadRow(str(file), None, "image", "not an image file", f"suffix {file.suffix!r}"), strict)
                    continue
                if allowed_norm is not None and normalize_label(label) not in allowed_norm:
                    report.bad(BadRow(str(file), None, "label", "unknown label", repr(label)), strict)
                    continue
                found_labels.add(label)
                rel = file.relative_to(root)
                samples.append(
                    Sample(id=str(rel.with_suffix("")), image=str(file), label=label, split=split, domain=root.name)
                )
                report.rows_kept += 1
    if not samples:
        said = "".join(f"; {warning}" for warning in report.warnings)
        raise DataError(f"no images found; expected DIR/<label>/<image> (jpg, png, ...){said}", file=str(root))
    labels = tuple(allowed) if allowed else tuple(sorted(found_labels))
    task = TaskInfo(
        spec.option("name", root.name) or root.name,
        labels=labels,
        label_polarity=label_polarity_map(labels, spec.option("polarity"), str(spec)),
        metric_set="classification",
    )
    return Dataset(spec=str(spec), task=task, samples=samples, report=report)
