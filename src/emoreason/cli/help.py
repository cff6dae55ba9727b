"""How `emoreason COMMAND --help` reads: a usage line in the usual shape, flags shown as flags,
and examples under every command.

typer's own help writes a required argument as `{predictions}` and gives every flag a `<bool>`
type, as if `--examples=false` were accepted (it is not: a flag takes no value). `Command` writes
the usage line as `[OPTIONS] PREDICTIONS [TEXT]...` (upper case, brackets only for what may be
left out) and shows no type for flags. Every command is registered with `cls=Command` and
`epilog=examples(name)`, every command group made with `cls=Group`.
"""

from __future__ import annotations

import shutil
from typing import Any

from typer.core import TyperCommand, TyperGroup

#: a few command lines per command (at most 76 characters a line: the help fits 80 columns)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "analyze": (
        'emoreason analyze "I loved it, but the ending dragged."',
        "emoreason analyze --examples --json > records.jsonl",
        "emoreason analyze --input reviews.jsonl   # id and text suffice",
        "cat texts.txt | emoreason analyze --task mosi",
        'emoreason analyze "Listen to this" --audio clip.wav --cues on',
        "emoreason analyze --audio clip.wav   # a speech clip alone: 8 emotions (the speech-emotion adapter)",
    ),
    "evaluate": (
        "emoreason evaluate --dataset vader:movies --sample 200",
        "emoreason evaluate -d vader:tweets --adapter runs/sft/final/adapter",
        "emoreason evaluate -d 'jsonl:mine.jsonl?scale=-3,3' --split all",
    ),
    "evaluate-predictions": (
        "emoreason evaluate-predictions predictions.jsonl -d vader:movies",
        "emoreason evaluate-predictions vader.jsonl -d vader:tweets \\",
        "    --baselines mean,majority",
    ),
    "compare": (
        "emoreason evaluate -d vader:movies --sample 300 --out runs/eval/sft",
        "emoreason evaluate -d vader:movies --sample 300 --adapter runs/grpo/final/adapter --out runs/eval/rl",
        "emoreason compare runs/eval/sft runs/eval/rl --out sft_vs_rl.json",
    ),
    "rollouts": (
        "emoreason rollouts runs/grpo",
        "emoreason rollouts runs/grpo --every 10 --out runs/grpo/pull.json",
        "emoreason rollouts runs/grpo --domain products",
    ),
    "average": (
        "emoreason average runs/grpo/c2f/checkpoint-{10,20,30}/adapter \\",
        "    --out runs/soup/c2f",
        "emoreason average sft/adapter rl/adapter --weights 1,1 --out runs/soup/half",
        "emoreason average sft/adapter rl/adapter --weights=-1,2 --out runs/soup/rl_twice",
        "emoreason evaluate -d vader:movies --sample 200 --split valid \\",
        "    --adapter runs/soup/c2f --out runs/valid/soup",
    ),
    "fit-score": (
        "emoreason evaluate -d vader:tweets --split valid --adapter runs/sft/final/adapter --out runs/valid/tweets",
        "emoreason evaluate -d vader:products --split valid --adapter runs/sft/final/adapter --out runs/valid/products",
        "emoreason fit-score runs/valid/tweets runs/valid/products --out runs/sft/final/adapter",
    ),
    "baseline": (
        "emoreason baseline vader vader.jsonl --dataset vader:tweets",
        "emoreason baseline minilm-ridge ridge.jsonl -d vader:movies \\",
        "    --train-on vader:tweets",
    ),
    "distill": (
        "emoreason distill -c configs/distill_c2f_vader_lexicon.yaml",
        "emoreason distill -c configs/distill_c2f_vader_lexicon.yaml limit=40",
        "emoreason distill -d vader:tweets -d vader:products --out runs/distill",
    ),
    "sft": (
        "emoreason sft -c configs/sft_c2f_vader_smollm2.yaml",
        "emoreason sft -c configs/sft_c2f_vader_smollm2.yaml max_steps=50",
        "emoreason sft -c configs/sft_c2f_vader_smollm2.yaml --show-config",
    ),
    "grpo": (
        "emoreason grpo -c configs/c2f_vader_smollm2.yaml",
        "emoreason grpo -c configs/c2f_vader_smollm2.yaml max_steps=3",
        "torchrun --nproc_per_node 2 -m emoreason grpo -c RECIPE.yaml",
    ),
    "cues": ("emoreason cues clip.mp4", "emoreason cues clip.wav --reference refs.json --speaker actor07 --json"),
    "serve": (
        "emoreason serve",
        "emoreason serve --adapter runs/sft/final/adapter --port 8080",
        "EMOREASON_API_KEY=secret emoreason serve --host 0.0.0.0",
    ),
    "data list": ("emoreason data list",),
    "data inspect": (
        "emoreason data inspect vader:tweets",
        "emoreason data inspect 'jsonl:mine.jsonl?scale=-3,3' --json",
    ),
    "data convert": (
        "emoreason data convert vader:tweets tweets.jsonl",
        "emoreason data convert 'csv:reviews.csv?text=review' out.jsonl",
    ),
    "data fit-classifier": (
        "emoreason data fit-classifier 'ravdess:data/ravdess?cues=only' --out cue_classifier.json",
        "emoreason evaluate -d 'ravdess:data/ravdess?cues=only&classifier=cue_classifier.json' --format emor3",
    ),
    "data prepare": (
        "emoreason data prepare ravdess:data/ravdess --reference-out refs.json",
        "emoreason data prepare raw:data/sims --kinds audio --out cues.jsonl",
    ),
}


def examples(command: str) -> str:
    """The epilog of `command`'s help: its examples as a code block (markdown help keeps its lines)."""
    return "**Examples**\n\n```\n" + "\n".join(EXAMPLES[command]) + "\n```"


class _FlagsWithoutType:
    """Help that shows no type for a flag: it takes no value, so `<bool>` would mislead."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]  # (a mixin) --help is added here: covered too
        for param in params:
            if getattr(param, "is_flag", False) and hasattr(param, "display_type_rich"):
                param.display_type_rich = _no_type
        return params


class _NarrowHelp:
    """Plain click help on a terminal too narrow for rich's option table (`help_markup_mode`, the
    width read when the help is asked for: COLUMNS counts, a pipe counts as 80), with the examples
    epilog one line each as written (click would rewrap the markdown code block into one paragraph)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        wanted = help_markup_mode(shutil.get_terminal_size((80, 24)).columns)
        if wanted is not None:
            super().format_help(ctx, formatter)  # type: ignore[misc]  # (a mixin)
            return
        rich, self.rich_markup_mode = self.rich_markup_mode, None  # type: ignore[attr-defined]
        try:
            super().format_help(ctx, formatter)  # type: ignore[misc]
        finally:
            self.rich_markup_mode = rich

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        epilog = getattr(self, "epilog", None) or ""
        if not epilog.startswith("**Examples**"):
            super().format_epilog(ctx, formatter)  # type: ignore[misc]  # (a mixin)
            return
        lines = [line for line in epilog.split("\n")[1:] if line.strip() and not line.startswith("```")]
        formatter.write_paragraph()
        formatter.write_text("Examples:")
        with formatter.indentation():
            for line in lines:
                formatter.write(f"{' ' * formatter.current_indent}{line}\n")


def help_markup_mode(columns: int) -> str | None:
    """The help's look on a terminal `columns` wide: rich's tables from 100 columns, plain click
    help below, where the option table leaves its help column about 20 characters wide and cuts
    option names and words (`--max-new-toke…`); plain help wraps the text under each option."""
    return "markdown" if columns >= 100 else None


class Command(_NarrowHelp, _FlagsWithoutType, TyperCommand):
    """A typer command whose help writes arguments in upper case and flags without a type."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").upper()
                pieces.append((name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else ""))
        return pieces

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # click's parser consumes the list it is handed
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]  # (a mixin's MRO: TyperCommand's)
        except Exception as err:
            # a usage error (it has the context and a message), of the click typer brings: its own copy in
            # recent typer, click itself in older ones
            hint = self._stray_word_hint(ctx, given) if hasattr(err, "ctx") and hasattr(err, "message") else ""
            if hint:
                err.message = f"{err.message}\n{hint}"
            raise

    def _stray_word_hint(self, ctx: Any, given: list[str]) -> str:
        """What a word given where a command takes no positional argument was probably meant as: `emoreason
        evaluate default -d ...` said only "Got unexpected extra argument (default)", and `emoreason evaluate
        vader:tweets` only that -d was missing. Empty where the command takes arguments or none was stray."""
        if any(p.param_type_name == "argument" for p in self.params):
            return ""
        try:
            _, stray, _ = self.make_parser(ctx).parse_args(args=given)
        except Exception:  # an option the parser refuses: that error says enough
            return ""
        if not stray:
            return ""
        from emoreason.data import ADAPTERS
        from emoreason.data import adapters as _registered  # noqa: F401  (fills ADAPTERS)

        options = {name for p in self.params for name in getattr(p, "opts", ())}
        word = stray[0]
        if "--dataset" in options and word.split(":", 1)[0] in ADAPTERS and ":" in word:
            return f"{word!r} is a dataset spec: give it with -d/--dataset {word}"
        if "--model" in options:
            return f"{self.name} takes no positional argument; if {word!r} is the model, give it with --model {word}"
        return f"{self.name} takes no positional argument: every input is an option (see --help)"


class Group(_NarrowHelp, _FlagsWithoutType, TyperGroup):
    """A typer command group (`emoreason`, `emoreason data`) whose help shows flags without a type."""


def _no_type(ctx: Any) -> None:
    """A flag's type in the help: none, since a flag takes no value."""
    return None


__all__ = ["EXAMPLES", "Command", "Group", "examples", "help_markup_mode"]
