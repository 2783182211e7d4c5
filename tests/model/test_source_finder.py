"""scriptflags.SourceFinder (one directory listing per pass, listings and results reused
while a directory's stat is unchanged) finds exactly the file ``module_source`` finds,
pass after pass, while scripts, packages and links appear, disappear and change kind."""

import os
import random
import shutil

import pytest

from guildls.model import scriptflags
from guildls.model.scriptflags import SourceFinder, module_source
from settled import Settler  # tests/, on sys.path (tests/conftest.py)

MODULES = ["train", "Train", "TRAIN", "pkg.train", "pkg/train", "pkg", "pkg.sub.train", "sub/pkg.train",
           "sub/train", "sub/pkg/train", "link", "link.train", "dlink", "flink", "a.b", "a..b", ".train",
           "train.", "../train", "/abs/train", "sub//train", "./train", "pkg/./train", "tr\u00e9in", "x-y",
           "train.py", "__main__", "sub", "pkg.__main__"]

DIRS = ["", "pkg", "sub", "sub/pkg", "pkg/sub", "Pkg"]
NAMES = ["train.py", "Train.py", "train", "__main__.py", "pkg", "sub", "a", "b.py", "tr\u00e9in.py",
         "x-y.py", "link", "flink.py", "dlink.py", "__init__.py"]


@pytest.fixture
def fresh_caches(monkeypatch):
    monkeypatch.setattr(scriptflags, "_dir_cache", {})
    monkeypatch.setattr(scriptflags, "_found", {})


def _mutate(rng, root):
    d = os.path.join(root, rng.choice(DIRS))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, rng.choice(NAMES))
    r = rng.random()
    if os.path.islink(p) or os.path.isfile(p):
        if r < 0.5:
            os.unlink(p)
            return
    elif os.path.isdir(p):
        if r < 0.3:
            shutil.rmtree(p)  # links inside are removed, not followed
            return
        p = os.path.join(p, rng.choice(["__main__.py", "train.py", "sub"]))
    if os.path.lexists(p):
        return
    r = rng.random()
    if r < 0.45:
        with open(p, "w") as f:
            f.write("x = 1\n")
    elif r < 0.7:
        os.mkdir(p)
    elif r < 0.8:
        os.symlink(os.path.join(root, "train.py"), p)  # to a file that may come and go
    elif r < 0.9:
        os.symlink(os.path.join(root, "pkg"), p)  # to a directory
    else:
        os.symlink(os.path.join(root, "missing"), p)  # dangling


@pytest.mark.parametrize("seed", range(3))
def test_finder_finds_what_module_source_finds_pass_after_pass(tmp_path, fresh_caches, seed):
    rng = random.Random(seed)
    root = str(tmp_path / "project")
    os.mkdir(root)
    settle = Settler()
    cached = 0
    for step in range(150):
        for _ in range(rng.randrange(3)):
            _mutate(rng, root)
        if rng.random() < 0.8:
            settle.tree(root)  # else: just changed, not settled (listed, not kept)
        finder = SourceFinder(root)  # one per pass, as import_script_flags makes
        for module in rng.sample(MODULES, len(MODULES)) * 2:
            want = module_source(root, module)
            assert finder.find(module) == want, (step, module)
        cached += len(scriptflags._dir_cache)
    assert cached > 100  # the listings were reused, not only read again


def test_a_script_created_or_deleted_in_a_settled_directory_is_seen(tmp_path, fresh_caches):
    root = str(tmp_path)
    settle = Settler()
    settle.tree(root)
    assert SourceFinder(root).find("train") is None
    assert root in scriptflags._dir_cache
    with open(os.path.join(root, "train.py"), "w") as f:
        f.write("")
    assert SourceFinder(root).find("train") == os.path.join(root, "train.py")
    settle.tree(root)
    assert SourceFinder(root).find("train") == os.path.join(root, "train.py")
    os.unlink(os.path.join(root, "train.py"))
    os.mkdir(os.path.join(root, "train"))
    settle.tree(root)
    assert SourceFinder(root).find("train") is None
    with open(os.path.join(root, "train", "__main__.py"), "w") as f:
        f.write("")
    assert SourceFinder(root).find("train") == os.path.join(root, "train", "__main__.py")


def test_no_project_or_no_module():
    assert SourceFinder(None).find("train") is None
    assert SourceFinder("/nonexistent-dir-guildls").find("train") is None
    assert SourceFinder("/tmp").find("") is None
