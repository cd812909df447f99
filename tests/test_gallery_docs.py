"""The README's gallery and its statements about data sizes stay in step with what produced them:
the gallery block is what ``experiments/gallery.py`` prints from ``docs/gallery/gallery.json``
(each figure's preview linked to its full-size image, both present), and the table of the images
each MNIST figure uses is what it prints from the figures' presets."""

import importlib.util
import re
from pathlib import Path

import pytest

from jaxsim.figures import FIGURES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _gallery_module():
    spec = importlib.util.spec_from_file_location("gallery_script", ROOT / "experiments" / "gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block(tag: str) -> str:
    """The README's text between ``<!-- tag: ... -->`` and ``<!-- /tag -->``."""
    m = re.search(rf"<!-- {tag}:[^\n]*-->\n(.*?)\n<!-- /{tag} -->", README, flags=re.S)
    assert m, f"README: no <!-- {tag}: ... --> block"
    return m.group(1)


def test_readme_mnist_data_sizes_match_the_presets():
    """What the README says each MNIST figure's FULL and QUICK presets read is what they read."""
    gallery = _gallery_module()
    assert _block("mnist-data") == gallery.mnist_markdown(), (
        "README's MNIST data table differs from the presets: paste 'python experiments/gallery.py' output")
    text = _block("mnist-data")
    assert {n for n in FIGURES if "mnist" in n} == set(re.findall(r"^\| ([\w-]+) \|", text, flags=re.M)) - {"Figure"}


def test_mnist_data_reads_each_preset():
    gallery = _gallery_module()
    from jaxsim.figures import ringleader_mnist, ringmaster_mnist

    assert gallery.mnist_data(ringmaster_mnist.QUICK) == f"the first {ringmaster_mnist.QUICK.samples} test images"
    assert gallery.mnist_data(ringleader_mnist.QUICK) == "all 10 000 test images (100 per worker)"
    assert gallery.mnist_data(ringleader_mnist.TINY) == "the first 200 test images (50 per worker)"


def test_readme_gallery_is_the_printed_one():
    import json

    gallery = _gallery_module()
    records = json.loads((ROOT / "docs" / "gallery" / "gallery.json").read_text(encoding="utf-8"))
    assert set(records) == set(FIGURES), "every figure has a gallery record"
    assert _block("gallery") == gallery.gallery_markdown(records), (
        "README's gallery differs from docs/gallery/gallery.json: paste 'python experiments/gallery.py --saved' "
        "output")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_gallery_preview_links_to_its_full_size_image(name):
    from PIL import Image

    gallery = _gallery_module()
    block = _block("gallery")
    assert f"[![{name}](docs/gallery/{name}.png)](docs/gallery/full/{name}.png)" in block
    assert f"| [{name}](docs/gallery/full/{name}.png) |" in block
    with Image.open(ROOT / "docs" / "gallery" / f"{name}.png") as preview, \
            Image.open(ROOT / "docs" / "gallery" / "full" / f"{name}.png") as full:
        assert abs(preview.width / preview.height - full.width / full.height) < 0.02  # the same picture
        assert max(preview.size) <= gallery.PREVIEW
        assert preview.size == full.size or max(preview.size) >= gallery.PREVIEW - 1  # as large as allowed
        assert full.width >= 900, "the full-size image is the figure's PNG as written"
