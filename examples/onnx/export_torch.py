#!/usr/bin/env python3
"""export_torch.py: export KAN and KAN-former models from PyTorch to ONNX for kolmo.

The KAN layer and the sparse attention have no standard ONNX op. Each is a torch.autograd.Function
whose forward() computes the layer in PyTorch and whose symbolic() tells torch.onnx.export to
write one node of kolmo's custom domain `ai.kolmo` (docs/onnx.md):

  ai.kolmo::KANLinear(x, base_weight, spline_weight[, spline_scaler])
      grid_size (int), spline_order (int), grid_range (floats [lo, hi]), base_activation
      ("silu" | "identity")
  ai.kolmo::SparseAttention(q, k, v)
      blkq, blkk (int), mode ("topk" | "topp" | "hybrid"), rho, tau, simthresh (float),
      causal, sink (int 0/1), scale (float, optional), pv_threshold (float)

Usage (needs PyTorch, which kolmo's build and CI do not):

    python3 examples/onnx/export_torch.py digits  examples/kan/trained/digits_kan.safetensors out.onnx
    python3 examples/onnx/export_torch.py kanformer out.onnx

The committed examples/onnx/*.onnx files were written by make_onnx.py (onnx.helper, no PyTorch)
and have the same node structure as what this script exports; see docs/onnx.md.
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

OPSET = 17


class KANLinearFn(torch.autograd.Function):
    """efficient-kan's KANLinear: y = base_weight . silu(x) + (spline_weight * scaler) . B(x)."""

    @staticmethod
    def forward(ctx, x, base, spline, scaler, grid_size, order, lo, hi):
        h = (hi - lo) / grid_size
        knots = lo + h * torch.arange(-order, grid_size + order + 1, dtype=x.dtype)
        xs = x.unsqueeze(-1)
        b = ((xs >= knots[:-1]) & (xs < knots[1:])).to(x.dtype)
        for p in range(1, order + 1):
            left = (xs - knots[: -(p + 1)]) / (knots[p:-1] - knots[: -(p + 1)])
            right = (knots[p + 1:] - xs) / (knots[p + 1:] - knots[1:-p])
            b = left * b[..., :-1] + right * b[..., 1:]
        w = spline * scaler.unsqueeze(-1) if scaler is not None else spline
        return F.linear(F.silu(x), base) + torch.einsum("...ic,oic->...o", b, w)

    @staticmethod
    def symbolic(g, x, base, spline, scaler, grid_size, order, lo, hi):
        ins = [x, base, spline] + ([scaler] if scaler is not None else [])
        return g.op("ai.kolmo::KANLinear", *ins, grid_size_i=grid_size, spline_order_i=order,
                    grid_range_f=[lo, hi], base_activation_s="silu")


class SparseAttentionFn(torch.autograd.Function):
    """Block-sparse attention (SpargeAttn). forward() here is dense causal attention, a stand-in
    with the right shapes for tracing; kolmo computes the block-sparse version from the node."""

    @staticmethod
    def forward(ctx, q, k, v, blk, mode, rho, tau, causal):
        return F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))

    @staticmethod
    def symbolic(g, q, k, v, blk, mode, rho, tau, causal):
        return g.op("ai.kolmo::SparseAttention", q, k, v, blkq_i=blk, blkk_i=blk, mode_s=mode,
                    rho_f=rho, tau_f=tau, causal_i=int(causal), sink_i=1, pv_threshold_f=50.0)


class KANLinear(torch.nn.Module):
    def __init__(self, i, o, grid_size=5, order=3, grid_range=(-1.0, 1.0)):
        super().__init__()
        self.base = torch.nn.Parameter(torch.empty(o, i).uniform_(-i ** -0.5, i ** -0.5))
        self.spline = torch.nn.Parameter(torch.randn(o, i, grid_size + order) * 0.01)
        self.scaler = torch.nn.Parameter(torch.ones(o, i))
        self.g, self.k, self.range = grid_size, order, grid_range

    def forward(self, x):
        return KANLinearFn.apply(x, self.base, self.spline, self.scaler, self.g, self.k,
                                 float(self.range[0]), float(self.range[1]))


class DigitsKAN(torch.nn.Module):
    """The [64, 32, 10] KAN of examples/kan/train_digits.py."""

    def __init__(self):
        super().__init__()
        self.l0, self.l1 = KANLinear(64, 32), KANLinear(32, 10)

    def forward(self, x):
        return self.l1(self.l0(x))


class KANFormerBlock(torch.nn.Module):
    """Pre-norm block: LayerNorm, Q/K/V projections, sparse attention, output projection,
    residual, LayerNorm, KAN feed-forward, residual (make_onnx.py's kanformer_block)."""

    def __init__(self, d=64, heads=2, seq=128):
        super().__init__()
        self.d, self.h, self.s = d, heads, seq
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.q = torch.nn.Linear(d, d, bias=False)
        self.k = torch.nn.Linear(d, d, bias=False)
        self.v = torch.nn.Linear(d, d, bias=False)
        self.o = torch.nn.Linear(d, d)
        self.ff0 = KANLinear(d, d, grid_range=(-2.0, 2.0))
        self.ff1 = KANLinear(d, d, grid_range=(-2.0, 2.0))

    def forward(self, x):
        h = self.ln1(x)
        split = lambda t: t.reshape(1, self.s, self.h, self.d // self.h).transpose(1, 2)
        a = SparseAttentionFn.apply(split(self.q(h)), split(self.k(h)), split(self.v(h)), 32,
                                    "hybrid", 0.25, 0.9, 1)
        r1 = x + self.o(a.transpose(1, 2).reshape(1, self.s, self.d))
        return r1 + self.ff1(self.ff0(self.ln2(r1)))


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in head.items():
        if k != "__metadata__":
            b, e = v["data_offsets"]
            out[k] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(v["shape"])
    return out


def export(model, x, path):
    torch.onnx.export(model, (x,), path, opset_version=OPSET, input_names=["x"],
                      output_names=["y"], custom_opsets={"ai.kolmo": 1})
    print("wrote", path)


def main(argv):
    torch.manual_seed(0)
    if len(argv) == 4 and argv[1] == "digits":
        m, w = DigitsKAN(), load_safetensors(argv[2])
        with torch.no_grad():
            for i, layer in enumerate((m.l0, m.l1)):
                layer.base.copy_(w[f"l{i}_base"])
                layer.spline.copy_(w[f"l{i}_spline"])
                layer.scaler.copy_(w[f"l{i}_scaler"])
        export(m.eval(), torch.zeros(1, 64), argv[3])
    elif len(argv) == 3 and argv[1] == "kanformer":
        export(KANFormerBlock().eval(), torch.zeros(1, 128, 64), argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
