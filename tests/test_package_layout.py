"""Layout rules of the package's code: the model update is written once (the server's
``apply_step``, plus the reference oracle's own), the clocks do not import each other, and no
private name is imported across modules."""

import re
from pathlib import Path

import jaxsim

PKG = Path(jaxsim.__file__).resolve().parent


def _sources():
    return {p.relative_to(PKG).as_posix(): p.read_text() for p in PKG.rglob("*.py")}


def _code(src: str) -> str:
    """Source without strings and comments."""
    import io
    import tokenize

    toks = [t for t in tokenize.generate_tokens(io.StringIO(src).readline)
            if t.type not in (tokenize.STRING, tokenize.COMMENT)]
    return " ".join(t.string for t in toks)


def test_the_model_update_is_written_once():
    """``x + step * updates`` exists in one place of the engine (the server's ``apply_step``, which every
    clock calls) and once in the reference oracle's own server (independent of the engine by design)."""
    pattern = re.compile(r"\bx\s*[-+]\s*[\w.\[\]\"']*\s*\*")  # x -/+ <step> * ...
    # the simulator's own code; problems/ holds objectives and their offline solvers (a Newton line search)
    hits = {f for f, src in _sources().items() if pattern.search(_code(src)) and not f.startswith("problems/")}
    assert hits == {"sim/server.py", "reference/server.py"}, hits


def test_clocks_do_not_import_each_other():
    clocks = ("stream", "controlled", "allocation")
    for name in clocks:
        src = (PKG / "sim" / f"{name}.py").read_text()
        for other in clocks:
            if other != name:
                assert not re.search(rf"from \.{other} import|import .*\b{other}\b", src), (name, other)


def test_no_private_name_is_imported_across_modules():
    pattern = re.compile(r"^\s*from \.+[\w.]* import (.*)$", re.M)
    for f, src in _sources().items():
        for names in pattern.findall(src):
            for n in re.split(r"[,\s()]+", re.sub(r"\s+as\s+\w+", "", names)):
                assert not (n.startswith("_") and n != "__version__"), (f, n)
