#!/usr/bin/python3
"""train_digits.py: train the [64, 32, 10] KAN and its MLP baseline on the 8x8 digits and export
them for kolmo (an optional author tool; tests never run it).

Needs PyTorch and scikit-learn (Debian: apt-get install python3-torch python3-sklearn). Writes into
examples/kan/trained/ (next to this script):

  digits_kan.kir + digits_kan.safetensors   KAN [64, 32, 10], efficient-kan layout, G=5, k=3,
                                            grid [-1, 1], SiLU base branch, spline_scaler
  digits_mlp.kir + digits_mlp.safetensors   MLP 64-280-10 (ReLU), about the same parameter count
  digits_test_x.npy (float32 [N, 64]), digits_test_y.npy (int32 [N])   the held-out test split
  digits_calib_x.npy (float32 [256, 64])    calibration samples from the training split
  metrics.json                              float32 test accuracy of both models (PyTorch)

Everything is seeded (split, initialisation, batches): a rerun on the same PyTorch version
reproduces the files. Pixels 0..16 are scaled to [-1, 1] (x / 8 - 1), the KAN's grid range.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trained")
SEED = 0
G, K = 5, 3


class KANLinear(torch.nn.Module):
    """efficient-kan's KANLinear (Blealtan/efficient-kan), forward pass and parameters as in
    reference/kan.md section 4: y = base_weight . silu(x) + (spline_weight * spline_scaler) . B(x).
    """

    def __init__(self, i, o, grid_size=G, spline_order=K, grid_range=(-1.0, 1.0)):
        super().__init__()
        self.i, self.o, self.G, self.k = i, o, grid_size, spline_order
        h = (grid_range[1] - grid_range[0]) / grid_size
        grid = torch.arange(-spline_order, grid_size + spline_order + 1) * h + grid_range[0]
        self.register_buffer("grid", grid.expand(i, -1).contiguous())
        self.base_weight = torch.nn.Parameter(torch.empty(o, i))
        self.spline_weight = torch.nn.Parameter(torch.empty(o, i, grid_size + spline_order))
        self.spline_scaler = torch.nn.Parameter(torch.empty(o, i))
        torch.nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5))
        torch.nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5))
        with torch.no_grad():
            self.spline_weight.normal_(0.0, 0.1 / grid_size)

    def b_splines(self, x):
        g = self.grid
        x = x.unsqueeze(-1)
        bases = ((x >= g[:, :-1]) & (x < g[:, 1:])).to(x.dtype)
        for p in range(1, self.k + 1):
            bases = (x - g[:, : -(p + 1)]) / (g[:, p:-1] - g[:, : -(p + 1)]) * bases[:, :, :-1] + (
                g[:, p + 1 :] - x
            ) / (g[:, p + 1 :] - g[:, 1:(-p)]) * bases[:, :, 1:]
        return bases

    def scaled_spline_weight(self):
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x):
        base = F.linear(F.silu(x), self.base_weight)
        spline = F.linear(
            self.b_splines(x).view(x.size(0), -1), self.scaled_spline_weight().view(self.o, -1)
        )
        return base + spline


class KAN(torch.nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = torch.nn.ModuleList(KANLinear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc0 = torch.nn.Linear(64, 280)
        self.fc1 = torch.nn.Linear(280, 10)

    def forward(self, x):
        return self.fc1(F.relu(self.fc0(x)))


def train(model, x, y, epochs, lr, batch=64, wd=1e-4):
    gen = torch.Generator().manual_seed(SEED + 1)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(x.size(0), generator=gen)
        for s in range(0, x.size(0), batch):
            idx = perm[s : s + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return model


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def write_safetensors(path, tensors):
    """The safetensors format by hand: u64 little-endian header length, JSON header (padded with
    spaces to a multiple of 8), then the raw little-endian float32 data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    header["__metadata__"] = {"format": "pt", "producer": "kolmo examples/kan/train_digits.py"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


KAN_KIR = """# digits_kan.kir: the [64, 32, 10] KAN (efficient-kan layout, G=5, k=3, grid [-1, 1]) trained on
# the 8x8 digits by examples/kan/train_digits.py (inputs: pixels / 8 - 1). Float32 test accuracy
# (PyTorch): {acc:.2f}% on {n} held-out samples (digits_test_*.npy).
kir 1
graph digits_kan {{
  input x : f32[1, 64]
  weight l0_base : f32[32, 64] = safetensors("digits_kan.safetensors", "l0_base")
  weight l0_spline : f32[32, 64, 8] = safetensors("digits_kan.safetensors", "l0_spline")
  weight l0_scaler : f32[32, 64] = safetensors("digits_kan.safetensors", "l0_scaler")
  weight l1_base : f32[10, 32] = safetensors("digits_kan.safetensors", "l1_base")
  weight l1_spline : f32[10, 32, 8] = safetensors("digits_kan.safetensors", "l1_spline")
  weight l1_scaler : f32[10, 32] = safetensors("digits_kan.safetensors", "l1_scaler")
  %h = kan_linear(x, l0_base, l0_spline, l0_scaler) {{grid_size = 5, spline_order = 3, grid_range = [-1, 1]}} : f32[1, 32]
  %logits = kan_linear(%h, l1_base, l1_spline, l1_scaler) {{grid_size = 5, spline_order = 3, grid_range = [-1, 1]}} : f32[1, 10]
  output y = %logits
}}
"""

MLP_KIR = """# digits_mlp.kir: the MLP baseline 64-280-10 (ReLU) trained on the 8x8 digits by
# examples/kan/train_digits.py (inputs: pixels / 8 - 1). Float32 test accuracy (PyTorch):
# {acc:.2f}% on {n} held-out samples (digits_test_*.npy).
kir 1
graph digits_mlp {{
  input x : f32[1, 64]
  weight fc0_w : f32[280, 64] = safetensors("digits_mlp.safetensors", "fc0_w")
  weight fc0_b : f32[280] = safetensors("digits_mlp.safetensors", "fc0_b")
  weight fc1_w : f32[10, 280] = safetensors("digits_mlp.safetensors", "fc1_w")
  weight fc1_b : f32[10] = safetensors("digits_mlp.safetensors", "fc1_b")
  %h0 = linear(x, fc0_w, fc0_b) : f32[1, 280]
  %h = relu(%h0) : f32[1, 280]
  %logits = linear(%h, fc1_w, fc1_b) : f32[1, 10]
  output y = %logits
}}
"""


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    d = load_digits()
    x = (d.data / 8.0 - 1.0).astype(np.float32)
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)
    calib = xtr[np.random.RandomState(SEED).permutation(len(xtr))[:256]]
    Xtr, Ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    Xte, Yte = torch.from_numpy(xte), torch.from_numpy(yte)
    os.makedirs(OUT, exist_ok=True)

    torch.manual_seed(SEED)
    kan = train(KAN([64, 32, 10]), Xtr, Ytr, epochs=int(os.environ.get("KAN_EPOCHS", "60")), lr=1e-2)
    torch.manual_seed(SEED)
    mlp = train(MLP(), Xtr, Ytr, epochs=int(os.environ.get("MLP_EPOCHS", "60")), lr=3e-3)
    acc_kan, acc_mlp = 100 * accuracy(kan, Xte, Yte), 100 * accuracy(mlp, Xte, Yte)
    print(f"KAN [64, 32, 10]: test accuracy {acc_kan:.2f}%  (train {100 * accuracy(kan, Xtr, Ytr):.2f}%)")
    print(f"MLP 64-280-10:    test accuracy {acc_mlp:.2f}%  (train {100 * accuracy(mlp, Xtr, Ytr):.2f}%)")

    l0, l1 = kan.layers
    write_safetensors(
        os.path.join(OUT, "digits_kan.safetensors"),
        {
            "l0_base": l0.base_weight, "l0_spline": l0.spline_weight, "l0_scaler": l0.spline_scaler,
            "l1_base": l1.base_weight, "l1_spline": l1.spline_weight, "l1_scaler": l1.spline_scaler,
        },
    )
    write_safetensors(
        os.path.join(OUT, "digits_mlp.safetensors"),
        {"fc0_w": mlp.fc0.weight, "fc0_b": mlp.fc0.bias, "fc1_w": mlp.fc1.weight, "fc1_b": mlp.fc1.bias},
    )
    with open(os.path.join(OUT, "digits_kan.kir"), "w") as f:
        f.write(KAN_KIR.format(acc=acc_kan, n=len(yte)))
    with open(os.path.join(OUT, "digits_mlp.kir"), "w") as f:
        f.write(MLP_KIR.format(acc=acc_mlp, n=len(yte)))
    np.save(os.path.join(OUT, "digits_test_x.npy"), xte.astype(np.float32))
    np.save(os.path.join(OUT, "digits_test_y.npy"), yte.astype(np.int32))
    np.save(os.path.join(OUT, "digits_calib_x.npy"), calib.astype(np.float32))
    with open(os.path.join(OUT, "metrics.json"), "w") as f:
        json.dump(
            {
                "split": {"train": len(ytr), "test": len(yte), "random_state": SEED, "stratified": True},
                "digits_kan": {"test_accuracy": round(acc_kan / 100, 6), "params": sum(p.numel() for p in kan.parameters())},
                "digits_mlp": {"test_accuracy": round(acc_mlp / 100, 6), "params": sum(p.numel() for p in mlp.parameters())},
                "torch": torch.__version__,
            },
            f,
            indent=2,
        )
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
