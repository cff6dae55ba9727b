"""emoreason: language models that explain their emotion and sentiment judgments."""

__version__ = "0.1.0"
