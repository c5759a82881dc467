"""The environment record every result carries: commit, and any uncommitted tracked files."""

import subprocess

from discotok.environment import describe_environment, git_state


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_git_state_names_the_commit_and_the_uncommitted_files(tmp_path):
    _git(tmp_path, "init", "-q")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    clean = git_state(tmp_path)
    assert len(clean["git_commit"]) == 40 and clean["git_uncommitted"] == []
    (tmp_path / "b.py").write_text("x = 2\n")
    (tmp_path / "new.py").write_text("untracked, not a change to the checkout\n")
    assert git_state(tmp_path) == {**clean, "git_uncommitted": ["b.py"]}


def test_outside_a_checkout_both_are_none(tmp_path):
    assert git_state(tmp_path) == {"git_commit": None, "git_uncommitted": None}
    env = describe_environment(seed=3)
    assert env["seed"] == 3 and {"git_commit", "git_uncommitted"} <= set(env)
