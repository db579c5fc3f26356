"""Logging: one structlog set-up for the whole cluster.

Every component logs through ``get_logger(component)``; each line carries that component and
the object it is about (``key=...``), so ``grep component=scheduler`` or a JSON query finds a
component's story. People get readable console lines on stderr; machines get JSON lines in a
file (the cluster's log in its profile directory). ``configure_logging`` is called once by
whoever owns the process (the CLI, the embedded cluster); libraries only call ``get_logger``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import structlog

_shared_processors: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(
    *, level: str = "INFO", json_file: Path | None = None, console: bool = True
) -> None:
    """Route structlog through the standard library to the console and/or a JSON-lines file."""
    handlers: list[logging.Handler] = []
    if console:
        console_handler = logging.StreamHandler(sys.stderr)
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        console_handler.setFormatter(_formatter(renderer))
        handlers.append(console_handler)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(json_file, encoding="utf-8")
        file_handler.setFormatter(
            _formatter(structlog.processors.JSONRenderer(), structlog.processors.dict_tracebacks)
        )
        handlers.append(file_handler)
    root = logging.getLogger("minikube_py")
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


def _route_through_stdlib() -> None:
    # Done at import, so that a program embedding the cluster without calling
    # configure_logging gets the standard library's behaviour (warnings to stderr), not
    # structlog's default of printing everything to stdout.
    structlog.configure(
        processors=[
            # first: a line below the logger's level is dropped before any work is done on
            # it (a cluster logs an info line per Event, which a quiet embedded cluster skips)
            structlog.stdlib.filter_by_level,
            *_shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(component: str) -> Any:
    """A logger whose every line says which component wrote it."""
    return structlog.get_logger(f"minikube_py.{component}").bind(component=component)


def _formatter(renderer: Any, *extra: Any) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *extra, renderer],
        foreign_pre_chain=_shared_processors,
    )


if not structlog.is_configured():
    _route_through_stdlib()
