#!/usr/bin/python3
"""Writes the image-pipeline test corpus: JPEG/PNG inputs, the tensors torchvision makes of them
and manifest.json (specs/serving.md section 4). Usage: make_images.py OUTDIR

Reference pipeline (torchvision 0.14 + Pillow 9.4, Debian 12):
    Image.open(f).convert("RGB"), Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)
Each case names its expected outcome: "ok" (a float32 .npy to match bit for bit), 400 (corrupt),
413 (over a limit, with the exact message) or 415 (not JPEG/PNG, CMYK). For "ok" and 400 the
script checks that Pillow agrees; the few deliberate departures from Pillow say why in "note".
"""
import ctypes
import io
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
DEFAULT = {"resize": 256, "center_crop": 224, "grayscale": False, "nhwc": False, **IMAGENET}


# ---- pixel content ------------------------------------------------------------------------------

def content(w, h, seed, channels=3):
    """Gradients, a periodic pattern, hard edges and noise: uint8 (h, w, channels)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = [xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1),
              128 + 100 * np.sin(xx / 7.0) * np.cos(yy / 5.0)]
    img = np.stack(planes[:channels], axis=-1)
    img[(xx // 16 + yy // 16) % 5 == 0] = 250  # edges
    img += rng.normal(0, 18, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def pil_rgb(w, h, seed):
    return Image.fromarray(content(w, h, seed), "RGB")


def jpeg(im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=kw.pop("quality", 90), **kw)
    return b.getvalue()


def tj_jpeg(arr, subsamp, quality=90):
    """libturbojpeg's compressor (Pillow cannot write 4:4:0 or 4:1:1): TJSAMP_440 = 4, 411 = 5."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = tj.tjInitCompress()
    h, w, _ = arr.shape
    buf, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    src = np.ascontiguousarray(arr)
    rc = tj.tjCompress2(ctypes.c_void_p(handle), src.ctypes.data_as(ctypes.c_void_p), w, 0, h, 0,  # TJPF_RGB
                        ctypes.byref(buf), ctypes.byref(size), subsamp, quality, 0)
    assert rc == 0, "tjCompress2 failed"
    data = ctypes.string_at(buf, size.value)
    tj.tjFree(buf)
    tj.tjDestroy(ctypes.c_void_p(handle))
    return data


# ---- a PNG writer with every colour type, bit depth, Adam7, PLTE/tRNS ------------------------

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_rows(samples, depth):
    """samples (h, w*channels) ints -> filter-type-0 scanlines."""
    out = bytearray()
    for row in samples:
        out.append(0)
        if depth == 16:
            out += row.astype(">u2").tobytes()
        elif depth == 8:
            out += row.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            padded = np.zeros(-(-len(row) // per) * per, np.uint8)
            padded[:len(row)] = row
            for i in range(0, len(padded), per):
                byte = 0
                for v in padded[i:i + per]:
                    byte = (byte << depth) | int(v)
                out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(samples, ctype, depth, interlace=False, plte=None, trns=None, after_idat=b""):
    """samples: (h, w, channels) integer array in the PNG's sample range."""
    h, w, c = samples.shape
    if interlace:
        raw = b"".join(pack_rows(samples[y0::dy, x0::dx].reshape(-1, len(range(x0, w, dx)) * c), depth)
                       for x0, y0, dx, dy in ADAM7 if x0 < w and y0 < h)
    else:
        raw = pack_rows(samples.reshape(h, w * c), depth)
    s = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace)))
    if plte is not None:
        s += chunk(b"PLTE", bytes(np.asarray(plte, np.uint8).ravel()))
    if trns is not None:
        s += chunk(b"tRNS", trns)
    return s + chunk(b"IDAT", zlib.compress(raw, 6)) + after_idat + chunk(b"IEND", b"")


def png_pil(im, **kw):
    b = io.BytesIO()
    im.save(b, "PNG", **kw)
    return b.getvalue()


def png_header_only(w, h):
    """IHDR claiming w x h, then one tiny IDAT: the size must be refused before any allocation."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def jpeg_with_size(data, w, h):
    """Rewrites the SOF0 frame size of a baseline JPEG."""
    i = data.index(b"\xff\xc0")
    return data[:i + 5] + struct.pack(">HH", h, w) + data[i + 9:]


# ---- the reference ----------------------------------------------------------------------------

def reference(data, opt):
    im = Image.open(io.BytesIO(data))
    im = im.convert("L" if opt["grayscale"] else "RGB")
    steps = [T.Resize(opt["resize"])] if opt["resize"] else []
    n = 1 if opt["grayscale"] else 3
    steps += [T.CenterCrop(opt["center_crop"]), T.ToTensor(), T.Normalize(opt["mean"][:n], opt["std"][:n])]
    t = T.Compose(steps)(im)
    if opt["nhwc"]:
        t = t.permute(1, 2, 0).contiguous()
    assert t.dtype == torch.float32
    return t.numpy()


def pillow_accepts(data, opt):
    try:
        reference(data, opt)
        return True
    except Exception:  # noqa: BLE001 — any Pillow/torchvision failure is a refusal
        return False


# ---- the cases --------------------------------------------------------------------------------

def cases():
    c = []

    def add(name, data, expect="ok", note=None, message=None, **opt):
        c.append(dict(name=name, data=data, expect=expect, note=note, message=message, opt={**DEFAULT, **opt}))

    rgb = lambda w, h, seed=1: pil_rgb(w, h, seed)  # noqa: E731
    # JPEG: sizes and every chroma subsampling
    base = rgb(640, 480)
    for sub, label in ((0, "444"), (1, "422"), (2, "420")):
        add(f"jpeg_640x480_{label}.jpg", jpeg(base, subsampling=sub))
    arr = content(333, 251, 2)
    add("jpeg_333x251_440.jpg", tj_jpeg(arr, 4))
    add("jpeg_333x251_411.jpg", tj_jpeg(arr, 5))
    add("jpeg_480x640_420.jpg", jpeg(rgb(480, 640, 3), subsampling=2))
    add("jpeg_1x1.jpg", jpeg(rgb(1, 1, 4)))
    add("jpeg_37x1.jpg", jpeg(rgb(37, 1, 5)))
    add("jpeg_1x50.jpg", jpeg(rgb(1, 50, 6)))
    add("jpeg_10000x3.jpg", jpeg(rgb(10000, 3, 7)))
    add("jpeg_224x224.jpg", jpeg(rgb(224, 224, 8)))
    add("jpeg_256x256.jpg", jpeg(rgb(256, 256, 9)))
    add("jpeg_256x300.jpg", jpeg(rgb(256, 300, 10)))
    add("jpeg_257x259.jpg", jpeg(rgb(257, 259, 11)))
    add("jpeg_259x257.jpg", jpeg(rgb(259, 257, 12), subsampling=1))
    add("jpeg_99x101_upscale.jpg", jpeg(rgb(99, 101, 13)))
    add("jpeg_2000x1500_q75.jpg", jpeg(rgb(2000, 1500, 14), quality=75))
    add("jpeg_gray_300x200.jpg", jpeg(Image.fromarray(content(300, 200, 15, 1)[:, :, 0], "L")))
    add("jpeg_progressive_500x375.jpg", jpeg(rgb(500, 375, 16), progressive=True))
    add("jpeg_progressive_gray.jpg", jpeg(Image.fromarray(content(200, 300, 17, 1)[:, :, 0], "L"), progressive=True))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90": applied by neither Pillow nor torchvision
    add("jpeg_exif_rotated.jpg", jpeg(rgb(320, 240, 18), exif=exif.tobytes(), icc_profile=bytes(range(256)) * 4))
    add("jpeg_trailing_garbage.jpg", jpeg(rgb(120, 90, 19)) + b"garbage after EOI" * 10)
    add("jpeg_cmyk.jpg", jpeg(rgb(64, 48, 20).convert("CMYK")), 415, "spec: CMYK/YCCK JPEG is refused (Pillow converts it)")

    good = jpeg(rgb(400, 300, 21))
    add("jpeg_truncated_half.jpg", good[:len(good) // 2], 400)
    add("jpeg_truncated_no_eoi.jpg", good[:-2], 400)
    add("jpeg_truncated_header.jpg", good[:120], 400)
    prog = jpeg(rgb(400, 300, 22), progressive=True)
    add("jpeg_progressive_truncated.jpg", prog[:len(prog) * 2 // 3], 400)
    sos = good.index(b"\xff\xda")
    hole = bytearray(good)
    hole[sos + 2000:sos + 2400] = b"\x00" * 400  # scan data wrecked, EOI intact: libjpeg warns, both decode
    add("jpeg_corrupt_scan.jpg", bytes(hole))
    dht = good.index(b"\xff\xc4")
    bad_dht = bytearray(good)
    bad_dht[dht + 5:dht + 21] = b"\xff" * 16  # Huffman code counts overflow: a libjpeg error
    add("jpeg_corrupt_dht.jpg", bytes(bad_dht), 400)
    dqt = good.index(b"\xff\xdb")
    add("jpeg_extraneous_bytes.jpg", good[:dqt] + b"\x00\x17junk" + good[dqt:])  # a libjpeg warning
    # a warning (wrecked first scan) and then an error (bogus table of a later scan): Pillow
    # refuses, and libturbojpeg reports both as a warning
    later = bytearray(prog)
    first_sos = prog.index(b"\xff\xda")
    later[first_sos + 60:first_sos + 90] = bytes(range(7, 37))
    last_dht = prog.rindex(b"\xff\xc4")
    later[last_dht + 5:last_dht + 21] = b"\xff" * 16
    add("jpeg_warning_then_error.jpg", bytes(later), 400)
    add("jpeg_huge_header.jpg", jpeg_with_size(good, 30000, 20000), 413,
        message="image 30000x20000 exceeds the limit of 40000000 pixels")

    # PNG: every colour type and bit depth (own writer), interlacing, palettes with tRNS
    def samples(w, h, seed, c, depth):
        """(h, w, c) samples of the given bit depth; a 4th channel is an alpha ramp."""
        top = (1 << depth) - 1
        a = content(w, h, seed, min(c, 3)).astype(np.int64)
        if depth == 16:
            a = a * 256 + np.random.default_rng(seed).integers(0, 256, a.shape)
        else:
            a = a * top // 255
        return np.concatenate([a, a[:, :, :1] ^ top], axis=2) if c == 4 else a

    for depth in (1, 2, 4, 8):
        add(f"png_gray{depth}_201x130.png", png(samples(201, 130, 30 + depth, 1, depth), 0, depth))
    g16 = samples(190, 170, 35, 1, 16) // 128  # values 0..511: Pillow clamps to 255, does not shift
    add("png_gray16_clamped.png", png(g16, 0, 16))
    add("png_gray16_full.png", png(samples(170, 190, 36, 1, 16), 0, 16))
    add("png_rgb8_257x259.png", png(samples(257, 259, 37, 3, 8), 2, 8))
    add("png_rgb16_300x200.png", png(samples(300, 200, 38, 3, 16), 2, 16))
    ga = np.concatenate([samples(160, 120, 39, 1, 8), samples(160, 120, 40, 1, 8)], axis=2)
    add("png_gray_alpha8.png", png(ga, 4, 8))
    ga16 = np.concatenate([samples(120, 160, 41, 1, 16), samples(120, 160, 42, 1, 16)], axis=2)
    add("png_gray_alpha16.png", png(ga16, 4, 16))
    rgba = np.concatenate([samples(300, 240, 43, 3, 8), samples(300, 240, 44, 1, 8)], axis=2)
    add("png_rgba8_alpha_not_composited.png", png(rgba, 6, 8))
    rgba16 = np.concatenate([samples(240, 300, 45, 3, 16), samples(240, 300, 46, 1, 16)], axis=2)
    add("png_rgba16.png", png(rgba16, 6, 16))
    rng = np.random.default_rng(47)
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        pal = rng.integers(0, 256, (n, 3))
        idx = rng.integers(0, n, (150, 210, 1))
        add(f"png_palette{depth}.png", png(idx, 3, depth, plte=pal))
    pal = rng.integers(0, 256, (40, 3))
    idx = rng.integers(0, 40, (180, 230, 1))
    add("png_palette_trns.png", png(idx, 3, 8, plte=pal, trns=bytes(rng.integers(0, 256, 40).astype(np.uint8))))
    idx_oob = rng.integers(0, 256, (100, 130, 1))  # indices past the 16-entry PLTE: Pillow's grey ramp
    add("png_palette_out_of_range.png", png(idx_oob, 3, 8, plte=rng.integers(0, 256, (16, 3))))
    add("png_gray_trns.png", png(samples(140, 100, 48, 1, 8), 0, 8, trns=struct.pack(">H", 77)))
    add("png_rgb_trns.png", png(samples(100, 140, 49, 3, 8), 2, 8, trns=struct.pack(">HHH", 1, 2, 3)))
    add("png_interlaced_rgb8.png", png(samples(255, 253, 50, 3, 8), 2, 8, interlace=True))
    add("png_interlaced_palette2.png", png(rng.integers(0, 4, (61, 67, 1)), 3, 2, interlace=True,
                                           plte=rng.integers(0, 256, (4, 3))))
    add("png_interlaced_gray16.png", png(samples(33, 47, 51, 1, 16) // 200, 0, 16, interlace=True))
    add("png_1x1.png", png(samples(1, 1, 52, 3, 8), 2, 8))
    add("png_1x200.png", png(samples(1, 200, 53, 3, 8), 2, 8))
    add("png_10000x3.png", png(samples(10000, 3, 54, 3, 8), 2, 8))
    add("png_224x224_pil.png", png_pil(rgb(224, 224, 55), optimize=True))
    add("png_256x256_pil_rgba.png", png_pil(Image.fromarray(samples(256, 256, 56, 4, 8).astype(np.uint8), "RGBA")))
    add("png_text_after_idat.png", png(samples(90, 60, 57, 3, 8), 2, 8, after_idat=chunk(b"tEXt", b"Comment\0hi")))

    ok_png = png(samples(300, 200, 58, 3, 8), 2, 8)
    add("png_truncated_idat.png", ok_png[:len(ok_png) // 2], 400)
    add("png_signature_only.png", ok_png[:8], 400)
    bad_crc = bytearray(ok_png)
    bad_crc[29] ^= 0xFF  # the IHDR CRC
    add("png_bad_ihdr_crc.png", bytes(bad_crc), 400)
    idat = ok_png.index(b"IDAT")
    wrecked = bytearray(ok_png)
    wrecked[idat + 4:idat + 40] = b"\xff" * 36  # the zlib stream itself
    add("png_corrupt_zlib.png", bytes(wrecked), 400)
    def with_chunk_crc_flipped(data, kind):
        i = data.index(kind) + 4
        n = struct.unpack(">I", data[i - 8:i - 4])[0]
        b = bytearray(data)
        b[i + n] ^= 0x01
        return bytes(b)

    phys = chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))
    with_phys = ok_png[:33] + phys + ok_png[33:]
    add("png_bad_crc_ancillary_before_idat.png", with_chunk_crc_flipped(with_phys, b"pHYs"), 400)
    text_after = png(samples(90, 60, 59, 3, 8), 2, 8, after_idat=chunk(b"tEXt", b"Comment\0hi"))
    add("png_bad_crc_ancillary_after_idat.png", with_chunk_crc_flipped(text_after, b"tEXt"))  # read by neither
    add("png_bad_idat_crc.png", with_chunk_crc_flipped(ok_png, b"IDAT"))  # the last IDAT's CRC: checked by neither
    z = zlib.compress(pack_rows(samples(200, 150, 60, 3, 8).reshape(150, 600), 8))
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 200, 150, 8, 2, 0, 0, 0))
    two_idat = (b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", z[:len(z) // 2]) + chunk(b"IDAT", z[len(z) // 2:])
                + chunk(b"IEND", b""))
    add("png_two_idat.png", two_idat)
    add("png_bad_first_idat_crc.png", with_chunk_crc_flipped(two_idat, b"IDAT"), 400,
        "Pillow checks no IDAT CRC; libspng checks every chunk it reads past (not the last IDAT's)")
    add("png_no_iend.png", ok_png[:-12])
    add("png_trailing_garbage.png", ok_png + b"trailing bytes" * 5)
    i = ok_png.index(b"IDAT") + 4
    n = struct.unpack(">I", ok_png[i - 8:i - 4])[0]
    bad_adler = bytearray(ok_png)
    bad_adler[i + n - 1] ^= 0x01  # last byte of the zlib stream = adler32; recompute the chunk CRC
    bad_adler[i + n:i + n + 4] = struct.pack(">I", zlib.crc32(bytes(bad_adler[i - 4:i + n])))
    add("png_bad_adler32.png", bytes(bad_adler), 400)
    add("png_huge_ihdr.png", png_header_only(20000, 15000), 413,
        message="image 20000x15000 exceeds the limit of 40000000 pixels")
    add("png_side_limit.png", png_header_only(20000, 100), 413,
        message="image 20000x100 exceeds the limit of 16384 pixels per side")

    # neither JPEG nor PNG
    add("not_image.txt", b"this is not an image\n" * 20, 415)
    add("empty.bin", b"", 415)
    add("gif.gif", b"GIF89a" + bytes(100), 415)
    add("jpeg_signature_short.bin", b"\xff\xd8", 415)

    # other preprocessing settings
    add("opt_gray_jpeg420.jpg", jpeg(base, subsampling=2), grayscale=True)
    add("opt_gray_from_gray_jpeg.jpg", jpeg(Image.fromarray(content(300, 200, 60, 1)[:, :, 0], "L")), grayscale=True)
    add("opt_gray_palette_oob.png", png(idx_oob, 3, 8, plte=rng.integers(0, 256, (16, 3))), grayscale=True)
    add("opt_gray_gray16.png", png(g16, 0, 16), grayscale=True)
    add("opt_gray_rgba.png", png(rgba, 6, 8), grayscale=True, nhwc=True)
    add("opt_crop_only_640x480.jpg", jpeg(base, subsampling=2), resize=0)
    add("opt_crop_only_pad_100x50.png", png(samples(100, 50, 61, 3, 8), 2, 8), resize=0)
    add("opt_crop_only_pad_301x100.jpg", jpeg(rgb(301, 100, 62)), resize=0)
    add("opt_crop_only_224x224.jpg", jpeg(rgb(224, 224, 63)), resize=0)
    add("opt_crop32.jpg", jpeg(base, subsampling=2), center_crop=32)
    add("opt_nhwc.jpg", jpeg(base, subsampling=2), nhwc=True)
    add("opt_resize128_crop112_halfmean.png", png(samples(257, 300, 64, 3, 8), 2, 8), resize=128,
        center_crop=112, mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    add("opt_resize300_crop299.jpg", jpeg(rgb(500, 375, 65)), resize=300, center_crop=299)
    add("opt_max_pixels.jpg", jpeg(rgb(40, 30, 66)), 413, max_pixels=1000,
        message="image 40x30 exceeds the limit of 1000 pixels")
    add("opt_max_side.png", png(samples(40, 20, 67, 3, 8), 2, 8), 413, max_side=32,
        message="image 40x20 exceeds the limit of 32 pixels per side")
    return c


def main():
    warnings.filterwarnings("ignore", "Palette images with Transparency")  # Pillow's note on tRNS
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest, problems = [], []
    for case in cases():
        name, data, opt, expect = case["name"], case["data"], case["opt"], case["expect"]
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entry = {"file": name, "expect": expect, "options": opt}
        if case["message"]:
            entry["message"] = case["message"]
        if case["note"]:
            entry["note"] = case["note"]
        if expect == "ok":
            t = reference(data, opt)
            entry["npy"] = name + ".npy"
            np.save(os.path.join(out, entry["npy"]), t)
        elif expect == 400 and not case["note"] and pillow_accepts(data, opt):
            problems.append(f"{name}: expected 400 but Pillow accepts it")
        manifest.append(entry)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    for p in problems:
        print("make_images.py:", p, file=sys.stderr)
    print(f"make_images.py: {len(manifest)} cases in {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
