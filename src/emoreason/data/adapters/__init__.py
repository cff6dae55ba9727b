"""Built-in dataset adapters; importing this package registers them."""

from emoreason.data.adapters import generic, images, mmsa, ravdess, raw, vader  # noqa: F401
