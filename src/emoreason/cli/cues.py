"""`emoreason cues`: the voice and face cues measured in one media file, as tables or JSON.

A dataset's cues are prepared by `emoreason data prepare` (`emoreason.cli.data`).
"""

from __future__ import annotations

import json

from emoreason.cli import options as opt
from emoreason.cli.ui import console, fail


def cues_cmd(
    file: opt.MediaFile,
    kind: opt.CueKind = "auto",
    reference: opt.Reference = None,
    speaker: opt.Speaker = None,
    cache_dir: opt.CuesCache = None,
    no_cache: opt.NoCache = False,
    as_json: opt.CuesJson = False,
) -> None:
    """Measure the voice (pitch, loudness, rate, pauses, voice quality) and face cues of a media file."""
    from emoreason.cli.ui import show_cue_tables
    from emoreason.cues import CueCache, CueError, describe_all, load_references
    from emoreason.cues.prepare import file_cues
    from emoreason.cues.reference import reference_speakers, some_speakers, too_few_clips

    try:
        references = load_references(reference) if reference is not None else {}
        records = file_cues(
            file,
            None if kind == "auto" else [k.strip() for k in kind.split(",")],
            None if no_cache else CueCache(cache_dir),
        )
    except (CueError, ValueError) as err:
        fail(str(err))
    if speaker is not None:  # it is read only against a reference's own speakers: never silently ignored
        if not references:
            fail(
                f"--speaker {speaker} is read against a --reference file's speakers; give one (data prepare writes it)"
            )
        known = reference_speakers(references)
        if speaker not in known:
            fail(
                f"--speaker {speaker} has no statistics in {reference} ({too_few_clips(references)}); its speakers: "
                f"{some_speakers(known)}"
            )
    description = describe_all(records, references, speaker)
    if as_json:
        zscores = {r.KIND: references[r.KIND].zscores(r, speaker) for r in records if r.KIND in references}
        print(
            json.dumps(
                {
                    "file": str(file),
                    "records": [r.to_dict() for r in records],
                    "description": description,
                    "zscores": zscores,
                },
                indent=2,
            )
        )
        return
    show_cue_tables(file.name, records, references, speaker)
    console.print(description)


__all__ = ["cues_cmd"]
