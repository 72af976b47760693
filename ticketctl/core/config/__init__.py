"""The rules a team runs on, as one typed, documented config.

The config file (``config.toml`` in the ticketctl home) holds only what a team
changes; everything else falls back to the defaults. Every field carries its
documentation in ``metadata["doc"]`` (:func:`base.doc`): the README's config
reference is generated from it (``tools/gen_docs.py``, :mod:`reference`).

Loading never half-accepts a file: :func:`config_from_dict` raises a
ValueError naming the key and what is wrong; the home (``ticketctl.home``)
adds the file name and turns it into a ConfigError before anything runs.

One module per section, each with its dataclasses, defaults and checks:

* :mod:`base`: :func:`~base.doc`, durations (``15m``, ``8h``, ``3d``), :func:`~base.to_dict`
* :mod:`sla`: ``[calendar]``, ``[sla]``, ``[weights]``; the priorities and impacts
* :mod:`workflow`: ``[reasons]`` (the blocked-reason menu) and ``[types]``
* :mod:`dispatch`: ``[dispatch]`` and ``[zones]``
* :mod:`sweep`: ``[sweep]`` and ``[notify]``
* :mod:`kpi`, :mod:`proof`, :mod:`approvals`, :mod:`intake`: their sections
* :mod:`root`: :class:`Config` itself and what it derives (business calendar, rules fingerprint)
* :mod:`loading`: :func:`config_from_dict`, the type and semantic checks
* :mod:`reference`: :func:`~reference.field_docs`, for the README

``Config``, ``config_from_dict``, ``parse_duration``, ``check_known`` and the
priority and impact names are imported from here; a section's own classes from its module.
"""

from __future__ import annotations

from ticketctl.core.config.base import check_known, parse_duration
from ticketctl.core.config.loading import config_from_dict
from ticketctl.core.config.root import Config
from ticketctl.core.config.sla import IMPACTS, PRIORITIES

__all__ = ["IMPACTS", "PRIORITIES", "Config", "check_known", "config_from_dict", "parse_duration"]
