"""Media per step: log_image / log_figure on a real store, the media index and the media
view's shared slider."""

from __future__ import annotations

import io
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import pytest  # noqa: E402
from dashboard_helpers import EVIL  # noqa: E402
from PIL import Image  # noqa: E402

import nbtrack  # noqa: E402
from nbtrack.dashboards.media import media_cells, media_grid_html, media_index  # noqa: E402
from nbtrack.dashboards.mediaview import MediaView  # noqa: E402
from nbtrack.dashboards.state import DashboardState  # noqa: E402
from nbtrack.media import parse_media_name, png_from_array  # noqa: E402


def confusion(epoch: int):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.eye(2) * (epoch + 1))
    ax.set_title(f"epoch {epoch}")
    return fig


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_png_encoder_round_trips_grey_rgb_rgba_and_floats():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert np.array_equal(decode_png(png_from_array(grey)), grey)
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(png_from_array(rgb)), rgb)
    rgba = np.dstack([rgb, np.full((5, 7), 128, np.uint8)])
    assert np.array_equal(decode_png(png_from_array(rgba)), rgba)
    floats = np.array([[0.0, 0.5, 1.0, 2.0, np.nan]])
    assert decode_png(png_from_array(floats)).tolist() == [[0, 128, 255, 255, 0]]
    with pytest.raises(ValueError, match="HxW, HxWx3 or HxWx4"):
        png_from_array(np.zeros((2, 2, 5)))
    assert zlib.crc32(png_from_array(grey)) == zlib.crc32(png_from_array(grey.copy()))


def test_log_image_and_figure_keep_every_step(store, tmp_path):
    path = tmp_path / "picture.png"
    Image.fromarray(np.full((4, 4, 3), 200, np.uint8)).save(path)
    with nbtrack.track("media", name="a") as run:
        for epoch in range(3):
            fig = confusion(epoch)
            assert nbtrack.log_figure(fig, "confusion") == f"confusion/step-00000000{epoch}.png"
            plt.close(fig)
        nbtrack.log_image(np.zeros((8, 8)), "masks", step=10)
        nbtrack.log_image(Image.new("RGB", (3, 3), "red"), "masks", step=20)
        nbtrack.log_image(str(path), "masks")  # step None: after the largest so far
        nbtrack.log_figure(go.Figure(go.Bar(y=[1, 2])), "bars", step=5)
        with pytest.raises(TypeError, match="log_image"):
            nbtrack.log_figure(np.zeros((2, 2)), "x")
        with pytest.raises(ValueError, match="between 0"):
            nbtrack.log_image(np.zeros((2, 2)), "x", step=-1)
        with pytest.raises(TypeError, match="cannot show a dict"):
            nbtrack.log_image({"a": 1}, "x")
        with pytest.raises(ValueError, match="not an existing image file"):
            nbtrack.log_image("nope.png", "x")
    record = nbtrack.get_run(run.run_id)
    media = sorted((a.name, a.kind, a.media_type) for a in record.artifacts)
    assert ("masks/step-000000021.png", "media", "image/png") in media
    assert ("bars/step-000000005.plotly.json", "media", "application/vnd.plotly.v1+json") in media
    assert parse_media_name("confusion/step-000000002.png") == ("confusion", 2)
    assert parse_media_name("confusion/other.png") is None
    assert record.artifact("confusion/step-000000002.png").load()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(record.artifact("bars/step-000000005.plotly.json").load(), go.Figure)
    assert run.artifact_names[-3:] == ["confusion", "masks", "bars"]


def two_runs_with_epochs(epochs_a: int = 4, epochs_b: int = 2) -> tuple[str, str]:
    ids = []
    for name, epochs in (("a", epochs_a), (EVIL, epochs_b)):
        with nbtrack.track("media", name=name) as run:
            for epoch in range(epochs):
                nbtrack.log_image(np.full((2, 2), (epoch * 40) % 256, np.uint8), "confusion", step=epoch)
            ids.append(run.run_id)
    return ids[0], ids[1]


def test_media_index_and_cells_show_the_latest_step_up_to_the_slider(store):
    a, b = two_runs_with_epochs()
    index = media_index([a, b])
    assert index.names() == ["confusion"] and index.steps("confusion") == [0, 1, 2, 3]
    cells = media_cells(index, "confusion", [a, b], step=3, labels={b: EVIL})
    assert [c.step for c in cells] == [3, 1]
    assert cells[1].note == "latest before step 3"
    assert decode_png(__import__("base64").b64decode(cells[0].uri.split(",", 1)[1])).tolist() == [[120, 120]] * 2
    html = media_grid_html(cells)
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_media_view_shares_one_slider_and_reads_only_the_shown_step(store, monkeypatch):
    a, b = two_runs_with_epochs(epochs_a=500, epochs_b=3)
    state = DashboardState("media")
    state.selected = [a, b]
    reads = []
    from nbtrack.dashboards import media as media_module

    original = media_module.read_content
    monkeypatch.setattr(media_module, "read_content", lambda item, store=None: reads.append(item) or original(item))
    view = MediaView(state)
    assert view.step.value == 499 and len(view.step.options) == 500  # the latest step by default
    assert [c.step for c in view.cells] == [499, 2]
    assert len(reads) == 2  # one blob per run, not 500
    reads.clear()
    view.show_step(1)
    assert [c.step for c in view.cells] == [1, 1] and len(reads) == 2
    assert 'data-step="1"' in view._slots[1][1].value
    # a lazy view (a hidden tab) does nothing until shown
    hidden = MediaView(state, active=False)
    assert hidden.cells == []
    hidden.active = True
    assert [c.step for c in hidden.cells] == [499, 2]
