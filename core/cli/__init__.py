"""`roadstudio-cli`: the headless command line. Works without PySide6 installed.

Each sub-command lives in its own module with `register(subparsers)`; the module's handler
returns an exit code. Exit codes: 0 success, 2 user error (one clear line on stderr, no
traceback), 1 anything else. Set ROADSTUDIO_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from core.threads import configure_openmp

# Before any sub-command module imports torch: idle OpenMP threads sleep instead of spinning, and
# the team has one thread per free core, unless the user set OMP_WAIT_POLICY / OMP_NUM_THREADS
# (core/threads.py has the reasons, docs/performance.md the measurements).
configure_openmp()

from core import __version__  # noqa: E402
from core.errors import UserError  # noqa: E402

# Sub-command modules, in the order `--help` lists them. A module that is missing is skipped,
# so the CLI keeps working while parts are developed.
COMMAND_MODULES = (
    "core.cli.train_cmd",
    "core.cli.infer_cmd",
    "core.cli.eval_cmd",
    "core.cli.segment_cmd",
    "core.cli.edit_cmd",
    "core.cli.average_cmd",
    "core.cli.export_cmd",
    "core.cli.import_cmd",
    "core.cli.info_cmd",
    "core.cli.data_cmd",
    "core.cli.bench_cmd",
    "core.cli.cluster_cmd",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own usage errors are user errors: exit 2
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="roadstudio-cli", description="Road Studio: headless pix2pix training and inference.")
    parser.add_argument("--version", action="version", version=f"roadstudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head` that closed early: not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("ROADSTUDIO_DEBUG"):
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (set ROADSTUDIO_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
