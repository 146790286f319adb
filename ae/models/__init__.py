"""Importing this package registers every variant: each module in it is imported, so a new variant is one new file
(`ae/models/<name>.py` with a `@register`ed class) and nothing else to edit."""

import importlib
import pkgutil

from ae.models.base import Autoencoder, Output

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Autoencoder", "Output"]
