"""How much of a RAVDESS clip is silence before and after the speech, and whether the whole-clip pause ratio
(AudioCues version 2) follows the pauses inside the speech: every 9th clip, the frames as `emoreason.cues.audio`
reads them (Praat intensity, 10 ms; sounding = within 25 dB of the loudest 1 %).

    .venv/bin/python docs/results/speech_span/edge_silence.py ../shared/data/ravdess_speech16k
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import parselmouth
import soundfile as sf

from emoreason.cues import audio as measures


def main(folder: Path) -> None:
    rows = []
    for path in sorted(folder.glob("Actor_*/*.wav"))[::9]:
        x, sr = sf.read(path)
        x = x if x.ndim == 1 else x.mean(axis=1)
        sound = parselmouth.Sound(x * (0.5 / np.abs(x).max()), sampling_frequency=sr)
        level = sound.to_intensity(minimum_pitch=measures.PITCH_FLOOR, time_step=measures.FRAME_STEP).values[0]
        sounding = level > np.percentile(level, 99) - measures.SILENCE_BELOW_PEAK_DB
        first, last = np.flatnonzero(sounding)[[0, -1]]
        span = sounding[first : last + 1]
        rows.append((1 - sounding.mean(), 1 - span.mean(), len(x) / sr, span.size * measures.FRAME_STEP))
    r = np.array(rows)
    print(f"{len(r)} clips")
    print(f"pause ratio over the whole clip: mean {r[:, 0].mean():.3f}, sd {r[:, 0].std():.3f}")
    print(f"pause ratio within the speech:   mean {r[:, 1].mean():.3f}, sd {r[:, 1].std():.3f}")
    print(f"clip {r[:, 2].mean():.2f} s, speech span {r[:, 3].mean():.2f} s (means)")
    print(f"r(whole-clip pause ratio, pause ratio within the speech) = {np.corrcoef(r[:, 0], r[:, 1])[0, 1]:.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
