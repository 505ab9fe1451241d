#!/usr/bin/python3
"""Seeds for fuzz_image: a few tiny JPEGs and PNGs (every JPEG kind and PNG colour type the
pipeline decodes), made with the writers of make_images.py. Usage: make_fuzz_image_seeds.py OUTDIR"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_images import content, jpeg, png, tj_jpeg  # noqa: E402


def seeds():
    rgb = Image.fromarray(content(20, 14, 1), "RGB")
    grey = Image.fromarray(content(15, 9, 2, 1)[:, :, 0], "L")
    yield "baseline420.jpg", jpeg(rgb, subsampling=2)
    yield "baseline444.jpg", jpeg(rgb, subsampling=0)
    yield "progressive.jpg", jpeg(rgb, progressive=True)
    yield "grey.jpg", jpeg(grey)
    yield "411.jpg", tj_jpeg(content(17, 11, 3), 5)
    yield "cmyk.jpg", jpeg(rgb.convert("CMYK"))
    a = content(9, 7, 4).astype(np.int64)
    yield "grey2.png", png(a[:, :, :1] // 64, 0, 2)
    yield "grey16.png", png(a[:, :, :1] * 3, 0, 16)
    yield "rgb8.png", png(a, 2, 8)
    yield "rgb16_interlaced.png", png(a * 257, 2, 16, interlace=True)
    yield "grey_alpha.png", png(a[:, :, :2], 4, 8)
    yield "rgba.png", png(np.concatenate([a, a[:, :, :1]], axis=2), 6, 8)
    yield "palette4_trns.png", png(a[:, :, :1] // 16, 3, 4, plte=a.reshape(-1, 3)[:12], trns=b"\x00\x80")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        assert len(data) < 4096, name
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"make_fuzz_image_seeds.py: seeds in {out}")


if __name__ == "__main__":
    main()
