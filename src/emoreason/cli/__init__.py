"""The `emoreason` command line, the top layer: it parses and prints, the layers below do the work.

- `main`: the typer `app`, its global options and the table of commands, in `emoreason --help` order;
- `analysis`: `analyze`, and loading a model for it and for `evaluate`;
- `evaluation`: `evaluate`, `evaluate-predictions` and `baseline`;
- `training`: the recipe commands `distill`, `sft` and `grpo`;
- `cues`: `cues`, the voice and face cues of one media file;
- `serving`: `serve`;
- `options`: every option's flags and help text, declared once;
- `data`: the `emoreason data ...` group and the dataset loading the commands share;
- `recipes`: what the recipe commands (distill, sft, grpo) share: YAML + flags + KEY=VALUE,
  building the trainer, the progress line and Ctrl-C;
- `inputs`: the samples `analyze` was given (texts, a file, stdin, the examples);
- `ui`: consoles, progress bars, tables and records as printed.
"""

from emoreason.cli.main import app

__all__ = ["app"]
