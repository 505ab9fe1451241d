"""Test data of the protocol suite (run_serve.py), made at test time: small ONNX graphs built
with onnx.helper, a second version of the benchmark MLP, images made with PIL, and model
repositories with torchless.json.

    ids: id_bool ... id_fp64    x[-1,3] -> Identity -> y, one model per OIP datatype
    pair                         a, b FP32 [-1,4] -> sum, diff, prod (two inputs, three outputs)
    fixed                        x FP32 [2,3] (no batch dimension) -> y = 2x
    classifier                   x FP32 [-1,5] -> scores (Identity), labels.txt of 5 names
    rows                         x FP32 [-1,-1] -> y = 2x (a dynamic second dimension)
    twice                        x FP32 [-1,3] -> a = x, b = 2x (one input, two outputs)
"""
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# OIP datatype -> (ONNX element type, numpy dtype)
DATATYPES = {
    "BOOL": (TensorProto.BOOL, np.bool_),
    "UINT8": (TensorProto.UINT8, np.uint8),
    "UINT16": (TensorProto.UINT16, np.uint16),
    "UINT32": (TensorProto.UINT32, np.uint32),
    "UINT64": (TensorProto.UINT64, np.uint64),
    "INT8": (TensorProto.INT8, np.int8),
    "INT16": (TensorProto.INT16, np.int16),
    "INT32": (TensorProto.INT32, np.int32),
    "INT64": (TensorProto.INT64, np.int64),
    "FP16": (TensorProto.FLOAT16, np.float16),
    "FP32": (TensorProto.FLOAT, np.float32),
    "FP64": (TensorProto.DOUBLE, np.float64),
}
CLASSIFIER_LABELS = ["cat", "dog", "bird", "fish", "horse"]


def _save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def identity_model(path, datatype):
    elem = DATATYPES[datatype][0]
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], f"id_{datatype.lower()}",
                          [_vi("x", elem, ["batch", 3])], [_vi("y", elem, ["batch", 3])])
    _save(g, path)


def pair_model(path):
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Sub", ["a", "b"], ["diff"]),
             helper.make_node("Mul", ["a", "b"], ["prod"])]
    f = TensorProto.FLOAT
    g = helper.make_graph(nodes, "pair", [_vi("a", f, ["batch", 4]), _vi("b", f, ["batch", 4])],
                          [_vi("sum", f, ["batch", 4]), _vi("diff", f, ["batch", 4]), _vi("prod", f, ["batch", 4])])
    _save(g, path)


def double_model(path, name, in_shape):
    """y = 2x over FP32 input x of `in_shape` (a constant initializer broadcast)."""
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], name,
                          [_vi("x", TensorProto.FLOAT, in_shape)], [_vi("y", TensorProto.FLOAT, in_shape)],
                          initializer=[two])
    _save(g, path)


def twice_model(path):
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    f = TensorProto.FLOAT
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Mul", ["x", "two"], ["b"])],
                          "twice", [_vi("x", f, ["batch", 3])], [_vi("a", f, ["batch", 3]), _vi("b", f, ["batch", 3])],
                          initializer=[two])
    _save(g, path)


def classifier_model(path):
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["scores"])], "classifier",
                          [_vi("x", TensorProto.FLOAT, ["batch", 5])], [_vi("scores", TensorProto.FLOAT, ["batch", 5])])
    _save(g, path)


def mlp_plus_one(src, dst):
    """The benchmark MLP with 1.0 added to its last bias: version 2 answers version 1 + 1."""
    m = onnx.load(str(src))
    last = [i for i in m.graph.initializer if len(i.dims) == 1 and i.dims[0] == 1]
    assert last, "the MLP's last bias (shape [1]) not found"
    arr = numpy_helper.to_array(last[-1]).copy() + np.float32(1.0)
    last[-1].CopyFrom(numpy_helper.from_array(arr.astype(np.float32), last[-1].name))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(dst))


# --- images -------------------------------------------------------------------------------

def test_image(w=320, h=240, seed=3):
    """A smooth RGB picture with some texture (deterministic)."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    g = 128 + 90 * np.cos((xx + yy) / 17.0)
    b = (xx * 255.0 / w + rng.normal(0, 12, (h, w))).clip(0, 255)
    return Image.fromarray(np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8), "RGB")


def image_bytes(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_header_only(width, height):
    """A PNG whose IHDR claims width x height (8-bit RGB), one empty IDAT and IEND."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def torchvision_argmax(ts_model, image_data):
    """Index of the torch model's top class on torchvision's ImageNet preprocessing, and the
    margin between the two best logits."""
    import torch
    import torchvision.transforms as T
    from PIL import Image
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    x = tf(Image.open(io.BytesIO(image_data)).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        y = ts_model(x)[0]
    top = torch.topk(y, 2)
    return int(top.indices[0]), float(top.values[0] - top.values[1])


# --- repositories ---------------------------------------------------------------------------

def write_config(folder, config):
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "torchless.json").write_text(json.dumps(config, indent=1))


def imagenet_labels():
    return [f"class_{i:03d}_{'abcdefghij'[i % 10]}" for i in range(1000)]


def resnet_folder(folder, models):
    """resnet18/: torchless.json (image preprocessing, argmax over labels.txt), 1/model.onnx."""
    folder = Path(folder)
    (folder / "1").mkdir(parents=True, exist_ok=True)
    dst = folder / "1" / "model.onnx"
    if not dst.exists():
        try:
            dst.hardlink_to(models / "resnet18.onnx")
        except OSError:
            shutil.copy(models / "resnet18.onnx", dst)
    (folder / "labels.txt").write_text("\n".join(imagenet_labels()) + "\n")
    write_config(folder, {
        "name": folder.name, "max_batch_size": 4,
        "preprocessing": {"kind": "image", "input": "input", "raw_input": "image", "resize": 256,
                          "center_crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "postprocessing": {"output": "output", "kind": "argmax", "labels": "labels.txt"}})


def proto_repository(root, models):
    """The repository of the protocol checks: every datatype, pair, fixed, classifier, mlp
    (versions 1 and 2, policy all), resnet18."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    for dt in DATATYPES:
        identity_model(root / f"id_{dt.lower()}" / "1" / "model.onnx", dt)
    pair_model(root / "pair" / "1" / "model.onnx")
    double_model(root / "fixed" / "1" / "model.onnx", "fixed", [2, 3])
    classifier_model(root / "classifier" / "1" / "model.onnx")
    (root / "classifier" / "labels.txt").write_text("\n".join(CLASSIFIER_LABELS) + "\n")
    write_config(root / "classifier", {"postprocessing": {"kind": "argmax", "labels": "labels.txt", "softmax": False}})
    mlp = root / "mlp"
    (mlp / "1").mkdir(parents=True)
    shutil.copy(models / "mlp.onnx", mlp / "1" / "model.onnx")
    mlp_plus_one(models / "mlp.onnx", mlp / "2" / "model.onnx")
    write_config(mlp, {"version_policy": "all"})
    resnet_folder(root / "resnet18", models)
    return root


def batching_repository(root, models):
    """mlp (single version) and rows (dynamic second dimension), for the batching checks."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    (root / "mlp" / "1").mkdir(parents=True)
    shutil.copy(models / "mlp.onnx", root / "mlp" / "1" / "model.onnx")
    double_model(root / "rows" / "1" / "model.onnx", "rows", ["batch", "n"])
    return root
