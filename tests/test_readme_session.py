"""A new user's session from the README, replayed at tiny size: every command of the "Quick start"
and "Other commands" sections runs in a fresh process (``PYTHONPATH`` set to this checkout, the
installation aside) and exits 0.

Commands are read from the README's bash blocks of those two sections, so a command added there is
replayed too, or fails this test until a rule below says how to shrink it. Each ``jaxsim ...`` line
runs as ``python -m jaxsim.cli ...`` in a temporary folder (its ``out/`` and ``~`` are there),
shrunk by options appended to it (the last given wins) or by the figures' test preset (``--tiny``
for ``--quick``); ``make figure`` runs the command of the Makefile's ``figure`` recipe the same
way. Skipped, and why:

* ``make test``, ``python -m pytest ...``: the test suite itself (this test is part of it);
* ``python3 -m venv ... && pip install ...``: the installation (the suite runs installed).

``jaxsim check my_method.py`` checks ``tests/user_methods/smoothed_delay_asgd.py`` (the README's
own method), and the MNIST run reads the ``mnist_dir`` fixture's folder (the shared MNIST test
files, or generated IDX files when they are absent), so nothing is skipped for want of data.
"""

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("Quick start", "Other commands")

#: Why a command is not replayed (a pattern on the command's words, the reason).
SKIPPED = (
    (r"^make test\b", "the test suite itself"),
    (r"^(\S+=\S+ )*python3? -m pytest\b", "the test suite itself"),
    (r"^python3 -m venv\b", "the installation (the suite runs installed)"),
)

#: Options appended to ``jaxsim run`` (tiny sizes; a later option wins over the README's).
RUN_TINY = ["--n", "4", "--horizon", "5", "--points", "2"]
#: Problems that take ``--d`` (``jaxsim list``), shrunk further.
TAKES_D = ("quadratic", "logistic", "het_quadratic", "component_logistic")


def readme_commands() -> list:
    """The commands of the README's bash blocks in :data:`SECTIONS`, continuation lines joined and
    comments dropped, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        if not section.startswith(SECTIONS):
            continue
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    commands.append(words)
    return commands


def make_recipe(target: str) -> list:
    """The command of a Makefile target's recipe that runs ``jaxsim`` (its install prerequisites aside)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, flags=re.M).group(1)
    line = next(ln for ln in recipe.splitlines() if "/bin/jaxsim " in ln)
    words = shlex.split(line.strip())
    return ["jaxsim", *words[1:]]


def shrink(words: list, mnist: Path):
    """``(argv, None)`` to run (``python -m jaxsim.cli`` + argv), or ``(None, reason)`` to skip."""
    line = " ".join(words)
    for pattern, reason in SKIPPED:
        if re.search(pattern, line):
            return None, reason
    if words == ["make", "figure"]:
        words = make_recipe("figure")
    assert words[0] == "jaxsim", f"README command {line!r}: no rule replays it (add one in {__file__})"
    argv = list(words[1:])
    i = 0
    while i < len(argv) and argv[i].startswith("-"):  # global options, with their values
        i += 1 if argv[i] in ("--version", "--help", "-h") else 2
    if i == len(argv):
        return argv, None
    cmd, rest = argv[i], argv[i + 1:]
    if cmd == "list":
        pass
    elif cmd == "figure":
        assert "--quick" in rest, f"{line!r}: a figure command without --quick (paper scale) is not replayed"
        argv[argv.index("--quick")] = "--tiny"
        argv.append("--no-progress")
    elif cmd == "run" and "--from" in rest:
        pass  # runs a saved run again, as recorded (the run it reads was replayed at tiny size)
    elif cmd == "run":
        problem = rest[rest.index("--problem") + 1] if "--problem" in rest else "quadratic"
        argv += RUN_TINY + (["--d", "3"] if problem in TAKES_D else [])
        if problem == "mnist_mlp":
            argv[argv.index("--data") + 1] = str(mnist)
            argv += ["--data-part", "test", "--max-samples", "40", "--hidden", "3"]
    elif cmd == "check":
        if rest[0] == "my_method.py":  # the file a user would have: the README's own method
            argv[i + 1] = str(ROOT / "tests" / "user_methods" / "smoothed_delay_asgd.py")
        argv += ["--configs", "1"]
    elif cmd == "bench":
        argv += ["--events", "300", "--d", "10"]
    else:
        raise AssertionError(f"README command {line!r}: no rule replays 'jaxsim {cmd}' (add one in {__file__})")
    return argv, None


def test_readme_commands_are_read():
    commands = [" ".join(w) for w in readme_commands()]
    assert "make figure" in commands and "jaxsim --version" in commands and "jaxsim list" in commands
    assert any(c.startswith("jaxsim check my_method.py") for c in commands)
    assert make_recipe("figure")[:3] == ["jaxsim", "figure", "ringmaster-quadratic"]


def test_a_new_users_session_from_the_readme(tmp_path, mnist_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home),
           "JAXSIM_COMPILE_CACHE": os.environ.get("JAXSIM_TEST_CACHE", "")}
    plan, skipped = [], []
    for words in readme_commands():
        argv, reason = shrink(words, Path(mnist_dir))
        (skipped.append((" ".join(words), reason)) if argv is None else plan.append((" ".join(words), argv)))

    def run(item):
        line, argv = item
        proc = subprocess.run([sys.executable, "-m", "jaxsim.cli", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        return line, argv, proc

    later = [item for item in plan if "--from" in item[1]]  # they read what an earlier command saved
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: the commands are compile-bound
        results = list(pool.map(run, [item for item in plan if item not in later]))
    results += [run(item) for item in later]
    failed = [f"{line}\n  ran: jaxsim {' '.join(argv)}\n  exit {p.returncode}: {p.stderr.strip()[-1500:]}"
              for line, argv, p in results if p.returncode != 0]
    assert not failed, "\n".join(failed)
    assert len(plan) >= 10, plan
    assert {reason for _, reason in skipped} <= {r for _, r in SKIPPED}
    # what the session left behind, where the README says
    assert (tmp_path / "out" / "rm.npz").is_file()
    assert (tmp_path / "out" / "ringmaster-quadratic.png").is_file()
    assert (home / ".cache" / "jaxsim").is_dir()  # --compile-cache ~/.cache/jaxsim
    by_line = {line: p for line, _, p in results}
    assert by_line["jaxsim --version"].stdout.startswith("jaxsim ")
    assert "PASS" in next(p.stdout for line, p in by_line.items() if line.startswith("jaxsim check"))


@pytest.mark.parametrize("words, reason", [
    (["make", "test"], "the test suite itself"),
    (["JAXSIM_TEST_XLA=default", "python", "-m", "pytest", "-q"], "the test suite itself"),
    (["python3", "-m", "venv", ".venv", "&&", "."], "the installation (the suite runs installed)"),
])
def test_only_the_suite_and_the_installation_are_skipped(words, reason):
    assert shrink(words, Path("."))[1] == reason
    with pytest.raises(AssertionError, match="no rule replays"):
        shrink(["jaxsim", "frobnicate"], Path("."))
