#!/usr/bin/python3
"""Makes the bundled example models in examples/ (see examples/README.md).

    /usr/bin/python3 examples/make_examples.py

Needs Debian's python3-torch 1.13, python3-sklearn, python3-pil, python3-onnx. Deterministic:
fixed seeds, one thread, no downloads; running it again rewrites byte-identical files.
TorchScript archives record the Python stack of every traced op in their `.debug_pkl`
members; so that they name repo-relative paths and not the checkout's absolute path, this
script and the model definitions are compiled under their repo-relative file names.
"""
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__" and "_RELATIVE_NAMES" not in globals():
    os.chdir(ROOT)
    with open("examples/make_examples.py", encoding="utf-8") as f:
        source = f.read()
    exec(compile(source, "examples/make_examples.py", "exec"),
         {"__name__": "__main__", "__file__": "examples/make_examples.py", "_RELATIVE_NAMES": True})
    sys.exit(0)

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_module(name, path):
    """Imports examples/<path> as module `name`, compiled under its repo-relative name."""
    module = types.ModuleType(name)
    module.__file__ = path
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), module.__dict__)
    sys.modules[name] = module
    return module


def make_mlp(out):
    """examples/mlp: the tutorial MLP in every format torch writes."""
    mlp_def = load_module("mlp_model_def", "examples/mlp/mlp_model_def.py")
    torch.manual_seed(0)
    model = mlp_def.MLP()
    # A real (tiny) regression task: y = x . w + noise, 256 samples, 20 epochs of Adam.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 10, generator=g)
    y = x @ torch.randn(10, 1, generator=g) + 0.1 * torch.randn(256, 1, generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    epochs = 20
    for _ in range(epochs):
        for i in range(0, 256, 64):
            opt.zero_grad()
            loss = F.mse_loss(model(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        final_loss = F.mse_loss(model(x), y).item()

    torch.save(model.state_dict(), f"{out}/mlp_state_dict.pth")
    torch.save({
        "epoch": epochs,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": opt.state_dict(),
        "scheduler_state_dict": sched.state_dict(),
        "loss": final_loss,
    }, f"{out}/mlp_checkpoint.pt")
    torch.save(model, f"{out}/mlp_model.pt")
    example = torch.zeros(1, 10)
    torch.jit.save(torch.jit.trace(model, example), f"{out}/mlp.ts.pt")
    torch.onnx.export(model, example, f"{out}/mlp.onnx", opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    print(f"mlp: {epochs} epochs, training MSE {final_loss:.4f}")


def digits_pixels(images):
    """sklearn digits (values 0..16) -> the 8-bit grayscale pixels of the sample PNGs."""
    return np.rint(images * (255.0 / 16.0)).astype(np.uint8)


def digits_input(pixels):
    """uint8 Nx8x8 pixels -> the model input Nx1x8x8 float32: ToTensor (/255), Normalize(0.5, 0.5)."""
    x = pixels.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return torch.from_numpy(x[:, None, :, :])


def make_digits(out):
    """examples/digits: a CNN trained on scikit-learn's bundled 8x8 digits."""
    cnn_def = load_module("digits_model_def", "examples/digits/digits_model_def.py")
    digits = load_digits()
    pixels = digits_pixels(digits.images)
    idx_train, idx_test = train_test_split(np.arange(len(pixels)), test_size=0.25, random_state=0,
                                           stratify=digits.target)
    x_train, y_train = digits_input(pixels[idx_train]), torch.from_numpy(digits.target[idx_train])
    x_test, y_test = digits_input(pixels[idx_test]), torch.from_numpy(digits.target[idx_test])

    torch.manual_seed(0)
    model = cnn_def.DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(2)
    for _ in range(30):
        model.train()
        perm = torch.randperm(len(x_train), generator=g)
        for i in range(0, len(perm), 32):
            b = perm[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(model(x_train[b]), y_train[b]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        predicted = model(x_test).argmax(1)
    accuracy = (predicted == y_test).float().mean().item()

    torch.save(model.state_dict(), f"{out}/digits_cnn.pth")
    example = torch.zeros(1, 1, 8, 8)
    torch.jit.save(torch.jit.trace(model, example), f"{out}/digits_cnn.ts.pt")
    torch.onnx.export(model, example, f"{out}/digits_cnn.onnx", opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with open(f"{out}/classes.txt", "w") as f:
        f.write("".join(f"{c}\n" for c in range(10)))

    # One test image per class (the first of each in the test split), named by its true label.
    for old in os.listdir(out):
        if old.endswith(".png") or old.endswith(".npy"):
            os.remove(f"{out}/{old}")
    samples = []
    for label in range(10):
        i = int(idx_test[(y_test == label).nonzero()[0, 0]])
        name = f"digit_{label}_sample{i}.png"
        Image.fromarray(pixels[i], mode="L").save(f"{out}/{name}", optimize=False)
        samples.append((name, label))
    # The PNGs through the documented preprocessing must give the model's test-time answers.
    with torch.no_grad():
        for name, label in samples:
            png = np.asarray(Image.open(f"{out}/{name}").convert("L"))[None]
            x = digits_input(png)
            np.save(f"{out}/{name[:-4]}.npy", x.numpy())  # the model input, for `torchless run`
            got = model(x).argmax(1).item()
            print(f"  {name}: predicted {got}{'' if got == label else '  (wrong)'}")
    print(f"digits: test accuracy {accuracy * 100:.2f}% on {len(x_test)} held-out images")
    return accuracy


def main():
    torch.set_num_threads(1)
    os.makedirs("examples/mlp", exist_ok=True)
    os.makedirs("examples/digits", exist_ok=True)
    make_mlp("examples/mlp")
    make_digits("examples/digits")


if __name__ == "__main__":
    main()
