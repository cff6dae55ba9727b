"""The LoRA adapters shipped inside the package, by name, and the settings an adapter folder carries.

    resolve_shipped("speech-emotion")         # -> .../emoreason/resources/speech_emotion_adapter
    AdapterSettings.of([folder])              # format, task, answer length, cue classifier, reference

An adapter is trained for one format and task, and some need more than weights: the speech
adapter reads voice cues plus the ranking of the cue classifier it was trained with, and a clip
analysed alone is compared with the training speakers' statistics (`cue_reference`). Those travel
in the adapter folder, named by `emoreason.json`, so `analyze --adapter speech-emotion --audio
clip.wav` needs nothing else. Every key is optional; an adapter without the file has no settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emoreason.data.schema import TaskInfo

#: name -> folder under emoreason/resources
SHIPPED_ADAPTERS = {"sentiment": "default_adapter", "speech-emotion": "speech_emotion_adapter"}
SETTINGS_FILE = "emoreason.json"
ADAPTER_CONFIG = "adapter_config.json"  # what makes a folder a peft LoRA adapter


def is_adapter_folder(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def shipped_adapter(name: str) -> Path | None:
    """The folder of the shipped adapter `name`, or None when the package has none by that name."""
    folder = SHIPPED_ADAPTERS.get(name)
    if folder is None:
        return None
    candidate = Path(str(resources.files("emoreason") / "resources" / folder))
    return candidate if is_adapter_folder(candidate) else None


def resolve_shipped(name: str) -> str:
    """`name` itself when it is a path that exists or not a shipped name; else the shipped folder.
    Raises ValueError for a shipped name whose folder is missing from this installation."""
    if name not in SHIPPED_ADAPTERS or Path(name).exists():
        return name
    folder = shipped_adapter(name)
    if folder is None:
        raise ValueError(f"adapter {name!r} is not shipped with this installation of emoreason")
    return str(folder)


#: the settings that name a file in the adapter's folder
FILE_KEYS = ("cue_classifier", "cue_reference", "score_fit")


@dataclass(frozen=True)
class AdapterSettings:
    """What an adapter was trained for (`emoreason.json` in its folder); None: not said."""

    format: str | None = None
    #: a task's name (vader:tweets, mosi, ravdess...), or a task of one's own written whole (`TaskInfo.to_dict`:
    #: a file's 1..7 scale or label set, which no name reads back as)
    task: str | dict[str, Any] | None = None
    max_new_tokens: int | None = None
    cue_classifier: Path | None = None  # a `emoreason.cues.CueClassifier` file
    cue_reference: Path | None = None  # a `emoreason.cues.save_references` file
    score_fit: Path | None = None  # a `emoreason.formats.readout.ScoreFit` file (`emoreason fit-score`)

    @classmethod
    def read(cls, folder: str | Path) -> AdapterSettings:
        """The settings in `folder`/emoreason.json (empty settings without one). Raises ValueError
        naming the file when it is not a JSON object of known keys."""
        path = Path(folder) / SETTINGS_FILE
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            unknown = sorted(set(data) - {"format", "task", "max_new_tokens", *FILE_KEYS})
            if unknown:
                raise ValueError(f"unknown keys {unknown}")
            files = {k: Path(folder) / data[k] if data.get(k) else None for k in FILE_KEYS}
            missing = [str(p) for p in files.values() if p is not None and not p.is_file()]
            if missing:
                raise ValueError(f"names files that are not there: {', '.join(missing)}")
            tokens = data.get("max_new_tokens")
            settings = cls(data.get("format"), data.get("task"), int(tokens) if tokens else None, **files)
            settings.task_info()  # a task it cannot read fails here, naming the file
            return settings
        except (OSError, ValueError, TypeError) as err:
            raise ValueError(f"{path}: {err}") from None

    def task_info(self) -> TaskInfo | None:
        """The task these settings name, or None where they name none. Raises ValueError for one it cannot read."""
        from emoreason.data.schema import TaskInfo, resolve_task

        if self.task is None:
            return None
        if isinstance(self.task, dict):
            try:
                return TaskInfo.from_dict(self.task)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"task is not a task written by TaskInfo.to_dict ({err})") from None
        return resolve_task(self.task)

    def other_question(self, task: TaskInfo) -> str | None:
        """Why this adapter's answers may not fit `task`, or None: it was trained for a task that asks for another
        answer (a score on another scale, other labels). The shipped default asked for 1..7 kept writing -4..4
        numbers, which counted as unparsed or as scores on the wrong side of the scale's middle, without a word."""
        own = self.task_info()
        if own is None or own.asks_as(task):
            return None
        return (
            f"the adapter was trained to answer {own.asked} ({own.name}, its emoreason.json) and is asked here for "
            f"{task.asked} ({task.name}): it may still answer as trained, answers that count as unparsed or read "
            "wrong (its fitted score line, if any, is not used); train or fit an adapter on data of this task"
        )

    @staticmethod
    def set_file(folder: str | Path, key: str, name: str) -> Path:
        """Record in `folder`/emoreason.json that the file `name` (in `folder`) is the adapter's `key`
        (one of `FILE_KEYS`), keeping every other setting; returns the settings file's path."""
        if key not in FILE_KEYS:
            raise ValueError(f"{key!r} is not a file setting; one of {', '.join(FILE_KEYS)}")
        path = Path(folder) / SETTINGS_FILE
        data = json.loads(path.read_text()) if path.is_file() else {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a JSON object")
        path.write_text(json.dumps(data | {key: name}, indent=2) + "\n")
        return path

    @staticmethod
    def file_for(out: str | Path, key: str) -> Path:
        """Where a fitted file (one of `FILE_KEYS`) given `out` is written: into an adapter folder as `KEY.json`
        (then `set_file(out, key, ...)` names it in the adapter's emoreason.json), else at `out` itself."""
        if key not in FILE_KEYS:
            raise ValueError(f"{key!r} is not a file setting; one of {', '.join(FILE_KEYS)}")
        if Path(out).is_dir():
            if not any((Path(out) / name).is_file() for name in ("adapter_config.json", SETTINGS_FILE)):
                # a run's or a data folder: writing there would make up an emoreason.json for no adapter
                raise ValueError(
                    f"{out} is a folder but not an adapter (it has no adapter_config.json or {SETTINGS_FILE}): give "
                    f"an adapter folder (the file goes into it as {key}.json) or a file path ending in .json"
                )
            return Path(out) / f"{key}.json"
        if Path(out).suffix.lower() != ".json":
            # a folder that is not there, or a file without its .json: writing a file named like the adapter
            # folder the user meant would leave the adapter without it
            raise ValueError(
                f"{out} is neither an adapter folder that exists (the file goes into it as {key}.json) nor a file "
                "path ending in .json: give one of them"
            )
        return Path(out)

    @classmethod
    def write_file(cls, out: str | Path, key: str, write: Callable[[Path], object]) -> Path:
        """`write` the file `key` for `out` (`file_for`), named in the adapter's emoreason.json when `out` is an
        adapter folder, so analyze, evaluate and serve read it with the adapter; returns where it went."""
        target = cls.file_for(out, key)
        write(target)
        if Path(out).is_dir():
            cls.set_file(out, key, target.name)
        return target

    @classmethod
    def of(cls, adapters: Sequence[str | Path]) -> AdapterSettings:
        """The settings of the last adapter that has any (adapters apply in order, the last on top)."""
        for folder in reversed(list(adapters)):
            settings = cls.read(folder)
            if settings != cls():
                return settings
        return cls()


__all__ = ["FILE_KEYS", "SETTINGS_FILE", "SHIPPED_ADAPTERS", "AdapterSettings", "resolve_shipped", "shipped_adapter"]
