"""PNG files written from a canvas's pixels: valid files holding the same pixels."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from sim.output.png import png_bytes


@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=40, deadline=None)
def test_png_bytes_decode_to_the_rgb_of_the_pixels(height, width, seed):
    rgba = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    data = png_bytes(rgba, {"Software": "siege test"})
    image = Image.open(io.BytesIO(data))
    image.load()  # checks every chunk's CRC and the compressed stream
    assert image.mode == "RGB" and image.size == (width, height)
    assert image.info["Software"] == "siege test"
    np.testing.assert_array_equal(np.asarray(image), rgba[:, :, :3])
