"""The options and arguments of the `emoreason` commands, declared once each: flag names and help.

`emoreason.cli` writes a command as `def evaluate(dataset: DatasetOption, split: Split = "test", ...)`,
so its signatures show each option's name and default and stay short; the words a user reads in
`--help` are here. An option that several commands take (SPEC, Model, Adapter, ...) reads the
same everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from emoreason.data.spec_options import how_to_measure
from emoreason.formats.consensus import VOTE_TEMPERATURE

APP = "Train, evaluate and serve language models that explain their emotion and sentiment judgments."
DATA = "Datasets: list the adapters, inspect a dataset, convert it to JSONL, prepare its cues."
SPEC = (
    "Dataset spec KIND:TARGET[?key=value&...], e.g. vader:tweets or jsonl:data.jsonl?scale=-4,4 "
    "(see `emoreason data list`)."
)
SPLIT = "train, valid, test, or all (every row whatever its split)."
MODEL = "`default` (embedded SmolLM2-135M-Instruct), a local model folder, a .gguf file, or a hub id."
ADAPTER = (
    "LoRA adapter folder (repeatable), or a shipped adapter by name: `sentiment` (text, c2f) or "
    "`speech-emotion` (voice cues, emor3); `none` for the bare base model. Without one, the default model uses "
    "the shipped sentiment adapter."
)
CUE_CACHE = "(default $EMOREASON_CUES_CACHE, else $EMOREASON_HOME/cues, else ~/.cache/emoreason/cues)."


def _option(text: str, *names: str, **checks: float) -> typer.models.OptionInfo:
    """An option with its help `text`, named by `names` (default: the parameter's own name);
    `checks` (min=, max=) are bounds click enforces before the command runs."""
    return typer.Option(*names, help=text, **checks)


# shared by several commands
Spec = Annotated[str, typer.Argument(help=SPEC, metavar="SPEC")]
DatasetOption = Annotated[str, _option(SPEC, "--dataset", "-d")]
# checked by click as it parses (a typo was said only after the dataset had loaded)
Split = Annotated[Literal["train", "valid", "test", "all"], _option(SPLIT)]
Strict = Annotated[bool, _option("Stop at the first bad row instead of skipping and counting.")]
Model = Annotated[str, _option(MODEL)]
Adapter = Annotated[Optional[list[str]], _option(ADAPTER)]
Format = Annotated[str, _option("Reasoning format: c2f, emor3 or r1.", "--format", "-f")]
Family = Annotated[str, _option("Model family: auto, causal_lm, qwen2_5_vl, qwen2_5_omni.")]
Dtype = Annotated[str, _option("auto (fp32 on CPU, bf16 on GPU), float32, bfloat16, float16.")]
Device = Annotated[str, _option("auto, cpu, cuda, cuda:1, ...")]
MaxNewTokens = Annotated[int, _option("Longest answer, in tokens.", min=1)]
ShowConfig = Annotated[bool, _option("Print the merged, validated config and exit.", "--show-config")]
Verbose = Annotated[
    bool, _option("Log debug messages, and show the model libraries' warnings and progress bars.", "--verbose", "-v")
]

# data inspect, convert, prepare
StatsJson = Annotated[bool, _option("Print the statistics as JSON.", "--json")]
ConvertOut = Annotated[
    Path, typer.Argument(help="Output JSONL file (generic field names; readable as jsonl:OUT).", metavar="OUT")
]
CueKinds = Annotated[str, _option("Cue kinds to extract: audio, face or audio,face.")]
PrepareCache = Annotated[Optional[Path], _option("Cue cache " + CUE_CACHE)]
PrepareOut = Annotated[
    Optional[Path], _option("Also write JSONL: id, split, speaker, cue records and their text.", "--out", "-o")
]
ClassifierOut = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Where to write the classifier: a .json path, or an adapter folder (written into it as "
        "cue_classifier.json and named in its emoreason.json, so analyze and serve use it with the adapter).",
    ),
]
ClassifierC = Annotated[
    float, typer.Option("--c", help="Inverse regularisation strength C of the logistic regression.", min=1e-6)
]
ClassifierFolds = Annotated[
    int, typer.Option(help="Folds (by speaker) for the cross-fitted rankings of the fitted clips.", min=2)
]
ClassifierAllowTest = Annotated[
    bool,
    typer.Option(
        "--allow-test",
        help="Fit on the test split (or all, which holds it): its ranking then carries the test clips' gold.",
    ),
]
ReferenceOut = Annotated[
    Optional[Path],
    _option(
        "Also write the cue references (per speaker / dataset): a .json path, or an adapter folder (as "
        "cue_reference.json, named in its emoreason.json: analyze and serve compare clips with it)."
    ),
]
AudioOut = Annotated[Optional[Path], _option("Also write each video's sound track as 16 kHz WAV under this folder.")]
MinDuration = Annotated[float, _option("Report clips shorter than this (seconds).")]
MaxDuration = Annotated[float, _option("Report clips longer than this (seconds).")]

# evaluate-predictions
Predictions = Annotated[
    Path,
    typer.Argument(
        help="JSONL of model outputs: `id` plus `completion` (parsed with --format) or `score`/`label` "
        "(a row with both scores its `score`/`label`, and a warning counts those that differ); or a .csv/.tsv "
        "file with those columns (an empty cell: no answer).",
        metavar="PREDICTIONS",
    ),
]
PredictionsFormat = Annotated[
    Optional[str],
    _option(
        "Reasoning format used to parse `completion`: c2f, emor3 or r1 (default: the one the task takes, c2f for "
        "a score scale, emor3 for a label set).",
        "--format",
        "-f",
    ),
]
MetricsOut = Annotated[
    Optional[Path], _option("Where to write the metrics JSON (default: PREDICTIONS with .metrics.json).", "--out", "-o")
]
ExtraBaselines = Annotated[
    str,
    _option(
        "Comma-separated baseline rows to add: auto (vader where there is text; mean beside a score, majority "
        "beside labels), "
        "vader, majority, mean, minilm-ridge (sentence embeddings + ridge), or none."
    ),
]

# analyze
Texts = Annotated[
    Optional[list[str]],
    typer.Argument(help="Text(s) to analyse; `-` or nothing reads one text per line from stdin.", metavar="TEXT"),
]
InputFile = Annotated[
    Optional[Path],
    _option(
        "JSONL/CSV/TSV of samples (generic fields: id, text, audio, video, image), a .txt file (one text per "
        "line), or a dataset spec (jsonl:FILE?text=sentence for other field names, vader:tweets).",
        "--input",
        "-i",
    ),
]
Audio = Annotated[
    Optional[Path],
    _option(
        "Audio file for the (single) text, or alone: with no text and no --adapter, the default model "
        "then uses the shipped speech-emotion adapter (8 emotions, EMO-R3 steps)."
    ),
]
Video = Annotated[Optional[Path], _option("Video file for the (single) text.")]
Image = Annotated[Optional[Path], _option("Image file for the (single) text.")]
Examples = Annotated[bool, _option("Analyse the built-in example sentences.", "--examples")]
Task = Annotated[
    str, _option("Score scale / label set: vader (-4..4), mosi, mosei (-3..3), sims, simsv2 (-1..1), mikels.")
]
AnalyzeTask = Annotated[
    Optional[str],
    _option(
        "Score scale / label set: vader (-4..4), mosi, mosei (-3..3), sims, simsv2 (-1..1), mikels, ravdess "
        "(8 speech emotions). Default: what the adapter was trained for, else vader."
    ),
]
AnalyzeFormat = Annotated[
    Optional[str],
    _option(
        "Reasoning format: c2f, emor3 or r1. Default: the adapter's, else the task's kind (c2f for a score scale, "
        "emor3 for labels).",
        "--format",
        "-f",
    ),
]
AnalyzeMaxNewTokens = Annotated[
    Optional[int], _option("Longest answer, in tokens. Default: the adapter's, else 256.", min=1)
]
Scale = Annotated[Optional[str], _option("Custom score scale LOW,HIGH, instead of --task (not with it).")]
Labels = Annotated[
    Optional[str],
    _option(
        "Custom comma-separated label set, instead of --task (not with it); answered in a label format (-f emor3 or "
        "-f r1). LABEL:POLARITY gives a label its polarity (surprise:positive); the emotion words of Mikels and "
        "RAVDESS, and joy, happiness and love, have one."
    ),
]
NeutralBand = Annotated[
    Optional[str],
    _option(
        "Neutral band LOW,HIGH: scores strictly between LOW and HIGH read as neutral (LOW = HIGH: that score alone), "
        "within the task's scale, e.g. --task mosi --neutral-band -0.5,0.5. Default: the task's own (vader "
        "-0.5,0.5; mosi and mosei only 0; a --scale of your own only its midpoint).",
        "--neutral-band",
    ),
]
Temperature = Annotated[
    Optional[float],
    _option(
        f"Sampling temperature; 0 = greedy (reproducible). Default: 0, or {VOTE_TEMPERATURE} with --votes above 1."
    ),
]
Votes = Annotated[
    int,
    _option(
        "Answers sampled per input (at --temperature); the one that speaks for them all is shown: the most "
        "common polarity (or label), and of those the answer whose score is nearest their median. The record "
        "keeps every answer's verdict under `votes`. K times the generation (emoreason.formats.consensus)."
    ),
]
GroundQuotes = Annotated[
    bool,
    _option(
        "Quotes in the answer may only cite words of the input (and its cue text): while a quote is open, "
        "tokens that would leave the input are masked (emoreason.generation.quotes). --free-quotes lets the "
        "model quote anything, as it was trained to.",
        "--grounded-quotes/--free-quotes",
    ),
]
Attribute = Annotated[
    bool,
    _option(
        "Also measure which words the judgment moves with: each word of the text is taken out in turn and the "
        "polarity probabilities read again where the answer states its polarity (nothing is generated for it); "
        "the words are ranked by how far each moves P(positive) - P(negative) (emoreason.metrics.attribution). "
        "The record gets `attribution`; the readable view shows the largest moves each way and which of those "
        "words the chain does not cite. About 0.14 s a word on a 2-core CPU. Needs a format that states its "
        "polarity first (c2f).",
        "--attribute",
    ),
]
NameNegations = Annotated[
    bool,
    _option(
        "With grounded quotes: when the chain lists a cue against the sign of the number it gives it "
        '("bad" (-2.5) under Positive cues) and the input negates that word by VADER\'s rule ("Not bad"), '
        "the chain is made to say so: ', negated by \"Not\" so it reads +', the digits left to the model "
        "(emoreason.generation.negations). The polarity and its probabilities are never changed. On by default; "
        "--no-name-negations leaves the chain as the model writes it.",
        "--name-negations/--no-name-negations",
    ),
]
ScoreReadout = Annotated[
    str,
    _option(
        "How a scored C2F answer's score is read: fitted (the default: off the line the adapter carries, fitted on "
        "valid answers with `emoreason fit-score`; the record keeps `confidence_score`; without a line, as "
        "confidence), confidence (the number the chain wrote, measured from the scale's middle, times the "
        "probability the model gave the polarity it wrote, kept on that polarity's side of the neutral band: a "
        "hesitant answer scores nearer the middle; the record keeps `written_score` and `polarity_probs`) or "
        "written (the chain's number as is). The polarity never changes "
        "(emoreason.formats.readout).",
        "--score-readout",
    ),
]
BatchSize = Annotated[int, _option("Samples per generation batch.", min=1)]
RecordJson = Annotated[bool, _option("Print one audit record (JSON) per input instead of the readable view.", "--json")]
Cues = Annotated[
    Literal["auto", "on", "off"],
    _option("Measured voice/face cues as text: auto (for media the model cannot take), on (always), off."),
]
ServeCues = Annotated[
    str,
    _option(
        "Media the model cannot read (audio, video or images for a text model): auto measures them and gives them "
        "as cue text, as analyze does (the speech-emotion adapter takes clips so); off refuses them."
    ),
]
CueReference = Annotated[
    Optional[Path],
    _option(
        "Cue references from `data prepare --reference-out` (default: the adapter's own where it carries one, "
        "as the speech-emotion adapter does; else the inputs, if 5 or more)."
    ),
]
AnalyzeSpeaker = Annotated[
    Optional[str],
    _option(
        "Who speaks in the clip of --audio/--video/--image (e.g. actor07): its cues are compared with that "
        "speaker's in the cue reference (--cue-reference, or the adapter's own); one it does not know, with its "
        "whole dataset. An --input file names each row's in a `speaker` column."
    ),
]

# evaluate
Limit = Annotated[
    Optional[int],
    _option(
        "Evaluate only the first N samples of the split (in file order: some files "
        "are sorted by label, e.g. vader:movies; prefer --sample).",
        min=1,
    ),
]
Sample = Annotated[
    Optional[int],
    _option(
        "Evaluate a seeded random subset of N samples of the split (--seed), kept in split order; another N "
        "draws afresh (with one seed, --sample 150 is not a subset of --sample 300).",
        min=1,
    ),
]
Seed = Annotated[int, _option("Seed of --sample, and of the random-removal control of --faithfulness.")]
OutsideSample = Annotated[
    bool,
    _option(
        "With --sample N: evaluate the rest of the split instead, every sample NOT in the seeded N (a fresh "
        "look at a split whose seeded sample has already been used to choose something)."
    ),
]
EvalOut = Annotated[Optional[Path], _option("Output folder (default runs/eval/DATASET-SPLIT).", "--out", "-o")]
EvalBatchSize = Annotated[int, _option("Samples per generation batch (also the most work a Ctrl-C loses).", min=1)]
Baselines = Annotated[
    str,
    _option(
        "Comparison rows: auto (vader where there is text; mean beside a score, majority beside labels), vader, "
        "majority, mean, minilm-ridge, none."
    ),
]
EvalDevice = Annotated[str, _option("auto, cpu, cuda, ...")]

# grpo, sft, distill: recipes
GrpoConfig = Annotated[Optional[Path], _option("YAML recipe, e.g. configs/c2f_vader_smollm2.yaml.", "--config", "-c")]
SftConfig = Annotated[
    Optional[Path], _option("YAML recipe, e.g. configs/sft_c2f_vader_smollm2.yaml.", "--config", "-c")
]
DistillConfig = Annotated[
    Optional[Path],
    _option(
        "YAML recipe, e.g. configs/distill_c2f_vader_lexicon.yaml; the options below override it.", "--config", "-c"
    ),
]
DistillDatasets = Annotated[
    Optional[list[str]],
    _option(SPEC + " Repeat to pool several (same task), e.g. -d vader:tweets -d vader:products.", "--dataset", "-d"),
]
DistillOut = Annotated[
    Optional[Path],
    _option("Output folder: sft.jsonl, dropped.jsonl, stats.json, lengths.png, cache.jsonl.", "--out", "-o"),
]
Teacher = Annotated[
    str,
    _option(
        "lexicon (VADER-lexicon chains, text, CPU, no model), cues (label chains from measured voice/face cues, a "
        f"cross-fitted cue classifier, no model; needs a dataset loaded with {how_to_measure()}), hf (a local "
        "model) or openai (an OpenAI-compatible endpoint)."
    ),
]
DistillSplit = Annotated[
    Literal["train", "valid", "test", "all"],
    _option("Split to distill (test rows are refused unless data.allow_test=true: sft.jsonl is training data)."),
]
DistillLimit = Annotated[Optional[int], _option("Only the first N samples (per dataset).")]
Rationalize = Annotated[
    bool,
    _option("Tell the teacher the gold answer and ask it to explain it (STaR-style); chains still pass the filter."),
]
ScoreTolerance = Annotated[
    Optional[float],
    _option(
        "Keep a chain only if |teacher score - gold| <= this (task "
        "units; default 12.5% of the scale range, 1.0 on -4..4)."
    ),
]
MinWords = Annotated[int, _option("Drop chains whose reasoning is shorter.")]
MaxWords = Annotated[int, _option("Drop chains whose reasoning is longer.")]
MatchMix = Annotated[
    bool,
    _option(
        "Then drop kept chains (seeded) until each domain's kept chains have its samples' gold polarity mix, every "
        "polarity at the domain's lowest keep rate. Use it when distill warns that the filter changed the mix."
    ),
]
TeacherModel = Annotated[Optional[str], _option("Teacher model: hf: " + MODEL + " openai: the served model name.")]
TeacherAdapter = Annotated[Optional[list[str]], _option("hf: LoRA adapter folder (repeatable).")]
BaseUrl = Annotated[
    Optional[str], _option("openai: endpoint base URL (default $OPENAI_BASE_URL or http://127.0.0.1:8000/v1).")
]
TeacherApiKey = Annotated[
    Optional[str],
    typer.Option(help="openai: API key (default $OPENAI_API_KEY).", envvar="OPENAI_API_KEY", show_envvar=False),
]
Concurrency = Annotated[int, _option("openai: requests in flight.", min=1)]
Timeout = Annotated[float, _option("openai: seconds per request attempt.")]
MaxAttempts = Annotated[
    int, _option("openai: attempts per request (timeouts, 429 and 5xx are retried with backoff).", min=1)
]
ChainTokens = Annotated[int, _option("hf/openai: longest chain, in tokens.", min=1)]
TeacherTemperature = Annotated[float, _option("hf/openai: sampling temperature (0 = greedy).")]
TeacherBatchSize = Annotated[int, _option("hf: samples per generation batch.", min=1)]
ReplyCache = Annotated[
    Optional[Path], _option("Reply cache file to use instead of OUT/cache.jsonl (share it between runs).")
]

# baseline
BaselineName = Annotated[
    str,
    typer.Argument(
        help="vader (text lexicon), majority or mean (fitted on the train "
        "split), minilm-ridge (sentence embeddings + ridge regression, "
        "score tasks).",
        metavar="NAME",
    ),
]
BaselineOut = Annotated[
    Path,
    typer.Argument(
        help="Output predictions JSONL (id, score or label), scorable with evaluate-predictions.", metavar="OUT"
    ),
]
TrainOn = Annotated[
    Optional[list[str]],
    _option(
        "Fit on this dataset's train split instead (repeatable; default: "
        "--dataset's own train split). Scores are mapped linearly onto "
        "--dataset's scale.",
        "--train-on",
    ),
]

# cues
MediaFile = Annotated[Path, typer.Argument(help="Audio, video or image file.", metavar="FILE")]
CueKind = Annotated[str, _option("auto (from the file type), audio, face, or audio,face.")]
Reference = Annotated[
    Optional[Path],
    _option(
        "Cue references from `data prepare --reference-out`: adds z-scores and words (--cue-reference, as "
        "analyze names it, works too).",
        "--reference",
        "--cue-reference",
    ),
]
Speaker = Annotated[Optional[str], _option("Compare with this speaker in --reference (e.g. actor07).")]
CuesCache = Annotated[Optional[Path], _option("Cue cache folder " + CUE_CACHE)]
NoCache = Annotated[bool, _option("Measure without reading or writing the cache.", "--no-cache")]
CuesJson = Annotated[bool, _option("Print the records, z-scores and description as JSON.", "--json")]

# serve
Host = Annotated[str, _option("Address to listen on (loopback by default; set --api-key before using any other).")]
Port = Annotated[int, _option("TCP port.", min=0, max=65535)]
ServeApiKey = Annotated[
    Optional[str],
    typer.Option(
        envvar="EMOREASON_API_KEY", show_envvar=True, help="Require `Authorization: Bearer KEY` on /v1/* and /metrics."
    ),
]
MaxBatchSize = Annotated[int, _option("Rows (prompts x n) per generate call.", min=1)]
NoBatching = Annotated[bool, _option("Run every request alone (same as --max-batch-size 1).", "--no-batching")]
BatchWait = Annotated[float, _option("How long a request waits for others to batch with.")]
MaxQueue = Annotated[int, _option("Waiting requests beyond which the server answers 503 + Retry-After.")]
RequestTimeout = Annotated[float, _option("Seconds per request (queue + generation) before a 504.")]
MaxTokensLimit = Annotated[int, _option("Largest max_tokens a request may ask for.", min=1)]
MaxN = Annotated[
    int, _option("Largest n (choices per chat request), and largest votes per /v1/analyze request.", min=1)
]
MaxUploadMb = Annotated[float, _option("Largest media file, MiB.")]
MaxBodyMb = Annotated[float, _option("Largest request body, MiB.")]
# checked as the arguments are read: a bad one failed in uvicorn's start, after the model had loaded
LogLevel = Annotated[Literal["critical", "error", "warning", "info", "debug", "trace"], _option("uvicorn log level.")]

# the help of commands with more than one paragraph (markdown: paragraphs reflow)
PREPARE_HELP = """Extract and cache the voice/face cues of every clip of a dataset (resumable: cached clips are \
skipped).

Lists unreadable files, clips without sound or face, and clips outside the duration limits."""

EVALUATE_HELP = """Run a model on a dataset split and write predictions.jsonl, metrics.json, report.md and report.html.

Resumable: a rerun with the same --out skips ids already in predictions.jsonl, when the run's identity \
(model, adapter contents, dtype, format, task, generation settings, score readout and its line, dataset and \
split, and with --votes above 1 the --batch-size: the batch decides which answers a sample draws; kept in \
run.json) matches; otherwise it stops before generating and lists what differs (--fresh starts over)."""

GRPO_HELP = """Train with GRPO: Hint-GRPO (C2F) and/or reflective rewards (EMO-R3).

Overrides follow the recipe as KEY=VALUE: a dotted path (algorithm.beta=0.01) or a bare key
that one section has (max_steps=3, lr=1e-5). A run resumes from the newest checkpoint in
run.output_dir (run.resume=false starts over); a killed run loses at most the step in flight.
Writes checkpoint-N/ every run.save_every steps and checkpoint-latest/ after the others (LoRA
adapter or full weights + optimizer, scheduler, RNG), metrics.jsonl, TensorBoard logs and
config.yaml.

Several processes: `torchrun --nproc_per_node N -m emoreason grpo ...` or
`accelerate launch --config_file configs/accelerate/<setup>.yaml -m emoreason grpo ...`."""

SFT_HELP = """Supervised fine-tuning (cold start) on the chat-messages JSONL that `distill` writes.

Loss on the assistant turn only; LoRA or full weights; text, Qwen2.5-VL and Qwen2.5-Omni
inputs. Overrides follow the recipe as KEY=VALUE (data.train_file=runs/distill/sft.jsonl,
max_steps=50, lr=1e-4). Evaluates every eval.every steps: held-out loss, and parse rate and
polarity accuracy of greedy answers. polarity.weight > 0 adds a loss on the polarity word's
probabilities against shares read off each gold score, on every sentence of polarity.dataset
(data.train_file=null: that loss alone). Resumes from the newest checkpoint in run.output_dir;
the trained weights end in run.output_dir/final/ (adapter/ for LoRA: pass it to
`analyze --adapter` or `grpo model.adapter=`)."""

DISTILL_HELP = """Cold start: teacher reasoning chains, filtered against the gold, written as SFT data.

A teacher writes a chain per sample; the consistency filter keeps those that parse and agree
with the gold polarity and score (or label); the kept ones become chat-messages JSONL. Every
reply is cached as it arrives: rerun the same command after an interruption and only the
missing samples are asked for. Dropped chains go to dropped.jsonl with their reason.

A run is a recipe, like sft and grpo: `--config configs/distill_c2f_vader_lexicon.yaml` plus
KEY=VALUE overrides (`limit=40`, `teacher.name=hf`). An option given overrides its key: --dataset
`data.dataset`, --out `run.output_dir`, --teacher `teacher.name`, --format `data.format`, --cache
`run.cache`, --split and --limit `data.*`, --score-tolerance, --min-words, --max-words and
--match-mix `filter.*`, the teacher's other options `teacher.*` (the same names with underscores). The API key
(--api-key or $OPENAI_API_KEY) is never part of a recipe."""
