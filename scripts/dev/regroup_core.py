"""Regroup core/'s loose modules into subpackages and rewrite every reference to them (issue 21).

    python scripts/dev/regroup_core.py                 # git mv the modules, then rewrite the tree
    python scripts/dev/regroup_core.py --rewrite-only  # rewrite references only (after a merge)
    python scripts/dev/regroup_core.py --check         # list what would change; exit 1 if anything

MOVES below is the one table of old -> new module paths. The rewrite turns, in every text file git
tracks or would track (Python, Markdown, TOML, shell, build.spec, ...):

- dotted names: `from core.checkpoints import X`, `import core.infer`, `core.infer.Predictor` in
  code, `mock.patch("core.infer.torch")`, `python -m core.fast_infer.aoti_build`, docstrings;
- paths: `core/checkpoints.py`, `core/fast_infer/fold.py` in docs, comments and scripts;
- `from core import provenance, __version__` into one import per package (a module whose name
  changed is bound under its old name: `from core.eval import critic as realism`);
- the names that were renamed with their module (RENAMED_NAMES: `RealismMap` -> `CriticMap`).

It is idempotent: no new path starts with an old one, so a second run changes nothing, and code
written against the old layout on another branch is fixed by running `--rewrite-only` after the
merge. CHANGELOG.md is left alone (it records what the paths were), and so are this file and its
test (tests/core/test_regroup_script.py).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Old module (or package) -> new one. A package's submodules follow it.
MOVES: dict[str, str] = {
    # weights/: generator files in and out, and what their cards say
    "core.checkpoints": "core.weights.checkpoints",
    "core.reference_import": "core.weights.reference_import",
    "core.averaging": "core.weights.averaging",
    "core.onnx_export": "core.weights.onnx_export",
    "core.class_coverage": "core.weights.class_coverage",
    # render/: label map in, photo out
    "core.infer": "core.render.infer",
    "core.batch_render": "core.render.batch_render",
    "core.provenance": "core.render.provenance",
    "core.fast_infer": "core.render.fast",
    # io/: files on disk
    "core.imageio": "core.io.imageio",
    "core.atomic": "core.io.atomic",
    "core.resources": "core.io.resources",
    # photo_labels/: label maps read out of photos
    "core.segment": "core.photo_labels.segment",
    "core.autolabel": "core.photo_labels.autolabel",
    # into the existing subpackages
    "core.encoding": "core.models.encoding",
    "core.presets": "core.train.presets",
    "core.realism": "core.eval.critic",  # "realism" is the FCN-score only (core.eval.realism)
}

#: Names renamed together with their module (whole words, anywhere in the tree).
RENAMED_NAMES: dict[str, str] = {"RealismMap": "CriticMap"}

#: Docstrings of the packages the moves create.
NEW_PACKAGES: dict[str, str] = {
    "core.weights": "Generator files: loading every kind (checkpoints), importing reference pix2pix weights,\n"
                    "averaging checkpoints, ONNX export, and what a model card says about its training classes.",
    "core.render": "Label map in, photo out: the Predictor, its fast CPU paths, rendering many maps in one\n"
                   "job, and the provenance every rendered PNG carries.",
    "core.io": "Files on disk: reading and writing images, atomic writes, and finding the bundled resources.",
    "core.photo_labels": "Label maps read out of photos: one photo (segment) and a whole folder into a paired\n"
                         "dataset (autolabel).",
}

#: Text files the rewrite reads, by suffix (or exact name).
SUFFIXES = {".py", ".pyi", ".md", ".rst", ".txt", ".toml", ".cfg", ".ini", ".sh", ".spec", ".yml", ".yaml"}
#: Left as they are: history, this file (its table names the old paths) and its test (old code on purpose).
SKIP = {"CHANGELOG.md", "scripts/dev/regroup_core.py", "tests/core/test_regroup_script.py"}

_OLD_TAILS = sorted((old.removeprefix("core.") for old in MOVES), key=len, reverse=True)
_ALTERNATION = "|".join(re.escape(tail) for tail in _OLD_TAILS)
_DOTTED = re.compile(rf"(?<![\w.])core\.({_ALTERNATION})(?!\w)")
_PATH = re.compile(rf"(?<![\w/.\\-])core/({_ALTERNATION})(?!\w)")
_FROM_CORE = re.compile(r"^([ \t]*)from core import (\(([^)]*)\)|[^\n#]*?)([ \t]*#[^\n]*)?$", re.MULTILINE)
_RENAMED = re.compile(r"\b(" + "|".join(map(re.escape, RENAMED_NAMES)) + r")\b") if RENAMED_NAMES else None


def _dotted(match: re.Match[str]) -> str:
    return MOVES["core." + match.group(1)]


def _path(match: re.Match[str]) -> str:
    return MOVES["core." + match.group(1)].replace(".", "/")


def _from_core(match: re.Match[str]) -> str:
    """`from core import a, b as c` -> one import per package the names now live in."""
    indent, body, inner, comment = match.group(1), match.group(2), match.group(3), match.group(4) or ""
    names = [n.strip() for n in (inner if inner is not None else body).replace("\n", " ").split(",")]
    names = [n for n in names if n]
    groups: dict[str, list[str]] = {}
    changed = False
    for entry in names:
        name, _, alias = (part.strip() for part in entry.partition(" as "))
        new = MOVES.get(f"core.{name}")
        if new is None:
            groups.setdefault("core", []).append(entry)
            continue
        changed = True
        package, _, module = new.rpartition(".")
        bound = alias or name
        groups.setdefault(package, []).append(module if module == bound else f"{module} as {bound}")
    if not changed:
        return match.group(0)
    lines = [f"{indent}from {package} import {', '.join(entries)}" for package, entries in groups.items()]
    lines[0] += comment
    return "\n".join(lines)


def rewrite_text(text: str) -> str:
    """The text with every reference to an old module replaced by its new one."""
    text = _FROM_CORE.sub(_from_core, text)
    text = _DOTTED.sub(_dotted, text)
    text = _PATH.sub(_path, text)
    if _RENAMED is not None:
        text = _RENAMED.sub(lambda m: RENAMED_NAMES[m.group(1)], text)
    return text


def tree_files(root: Path) -> list[Path]:
    """The text files git tracks or would track (untracked and not ignored) under root."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout.decode()
    files = []
    for rel in sorted(set(filter(None, out.split("\0")))):
        path = root / rel
        if rel in SKIP or path.suffix not in SUFFIXES or not path.is_file() or path.is_symlink():
            continue
        files.append(path)
    return files


def rewrite_tree(root: Path, write: bool) -> list[Path]:
    """Rewrite (or, with write=False, only find) the files that reference an old module."""
    changed = []
    for path in tree_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_text(text)
        if new != text:
            changed.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return changed


def _module_path(root: Path, dotted: str) -> Path:
    """core.a.b -> root/core/a/b.py, or the package folder root/core/a/b when that exists."""
    folder = root / dotted.replace(".", "/")
    return folder if folder.is_dir() else folder.with_suffix(".py")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True)


def move_modules(root: Path) -> list[str]:
    """git mv every old module to its new place, creating the new packages. Moves already done
    are skipped, so this may run again."""
    done = []
    for old, new in MOVES.items():
        source = _module_path(root, old)
        target = root / new.replace(".", "/")
        if not source.is_dir():
            target = target.with_suffix(".py")
        if not source.exists():
            if not target.exists():
                print(f"warning: neither {source.relative_to(root)} nor {target.relative_to(root)} exists",
                      file=sys.stderr)
            continue
        package = target.parent
        if not (package / "__init__.py").exists():
            package.mkdir(parents=True, exist_ok=True)
            dotted = ".".join(package.relative_to(root).parts)
            doc = NEW_PACKAGES.get(dotted)
            if doc is None:
                raise SystemExit(f"no docstring for the new package {dotted} in NEW_PACKAGES")
            (package / "__init__.py").write_text(f'"""{doc}"""\n', encoding="utf-8")
            _git(root, "add", str((package / "__init__.py").relative_to(root)))
        _git(root, "mv", str(source.relative_to(root)), str(target.relative_to(root)))
        done.append(f"{source.relative_to(root)} -> {target.relative_to(root)}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--rewrite-only", action="store_true", help="rewrite references, move nothing")
    mode.add_argument("--check", action="store_true",
                      help="list the files that still reference an old module; exit 1 if there are any")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.check:
        stale = rewrite_tree(root, write=False)
        for path in stale:
            print(path.relative_to(root))
        return 1 if stale else 0
    if not args.rewrite_only:
        for line in move_modules(root):
            print(f"moved {line}")
    for path in rewrite_tree(root, write=True):
        print(f"rewrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
