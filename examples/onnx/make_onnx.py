#!/usr/bin/env python3
"""make_onnx.py: writes the committed ONNX examples with onnx.helper (no PyTorch needed).

Run from the repository root with Debian's python3-onnx (Debian 12: /usr/bin/python3):

    /usr/bin/python3 examples/onnx/make_onnx.py

Outputs (all in examples/onnx/):
  digits_kan.onnx       the trained digits KAN of examples/kan/trained/ (weights read from
                        digits_kan.safetensors), two ai.kolmo KANLinear nodes; it must compile to
                        the same binary as examples/kan/trained/digits_kan.kir.
  kanformer_block.onnx  a small KAN-former block: LayerNormalization, MatMul projections, the
                        head split (Reshape/Transpose), ai.kolmo SparseAttention, residual Adds
                        and a KANLinear feed-forward; random weights (seeded).
  mlp_silu.onnx         a Gemm/MatMul MLP with SiLU written as x*Sigmoid(x), Tanh and Softmax:
                        the standard-op path and the SiLU recognition.
The same graphs are what examples/onnx/export_torch.py produces from PyTorch modules through
autograd Functions with symbolic() methods.
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OPSET = 17
KOLMO = "ai.kolmo"


def read_safetensors(path):
    """The tensors of a safetensors file as float32 numpy arrays (F32/F64 only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        dt = {"F32": np.float32, "F64": np.float64}[v["dtype"]]
        out[k] = np.frombuffer(data[b:e], dtype=dt).reshape(v["shape"]).astype(np.float32)
    return out


def model(graph, name):
    m = helper.make_model(
        graph,
        producer_name="kolmo examples/onnx/make_onnx.py",
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(KOLMO, 1)],
    )
    m.ir_version = 8
    onnx.checker.check_model(m)  # custom-domain nodes are not schema-checked
    path = os.path.join(HERE, name)
    onnx.save(m, path)
    print(path, os.path.getsize(path), "bytes")


def kan_node(x, base, spline, scaler, out, grid=5, order=3, lo=-1.0, hi=1.0, name=None):
    ins = [x, base, spline] + ([scaler] if scaler else [])
    return helper.make_node(
        "KANLinear", ins, [out], name=name or out, domain=KOLMO,
        grid_size=grid, spline_order=order, grid_range=[lo, hi])


def digits_kan():
    w = read_safetensors(os.path.join(ROOT, "examples/kan/trained/digits_kan.safetensors"))
    names = ["l0_base", "l0_spline", "l0_scaler", "l1_base", "l1_spline", "l1_scaler"]
    inits = [numpy_helper.from_array(w[n], n) for n in names]
    nodes = [
        kan_node("x", "l0_base", "l0_spline", "l0_scaler", "h", name="l0"),
        kan_node("h", "l1_base", "l1_spline", "l1_scaler", "logits", name="l1"),
        helper.make_node("Identity", ["logits"], ["y"], name="out"),
    ]
    g = helper.make_graph(
        nodes, "digits_kan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    model(g, "digits_kan.onnx")


def kanformer_block():
    """Pre-norm block: sequence 128, width 64 = 2 heads x 32, sparse attention on 32x32 blocks,
    KAN feed-forward 64 -> 64 -> 64 (G=5, k=3, grid [-2, 2])."""
    rng = np.random.default_rng(7)
    S, D, H, Dh = 128, 64, 2, 32
    u = lambda shape, a: rng.uniform(-a, a, shape).astype(np.float32)
    t = {
        "ln1_g": np.ones(D, np.float32), "ln1_b": np.zeros(D, np.float32),
        "wq": u((D, D), 0.125), "wk": u((D, D), 0.125), "wv": u((D, D), 0.125),
        "wo": u((D, D), 0.125), "bo": np.zeros(D, np.float32),
        "ln2_g": np.ones(D, np.float32), "ln2_b": np.zeros(D, np.float32),
        "ff0_base": u((D, D), 0.125), "ff0_spline": (rng.standard_normal((D, D, 8)) * 0.01).astype(np.float32),
        "ff1_base": u((D, D), 0.125), "ff1_spline": (rng.standard_normal((D, D, 8)) * 0.01).astype(np.float32),
        "heads_shape": np.array([1, S, H, Dh], np.int64),
        "model_shape": np.array([1, S, D], np.int64),
    }
    inits = [numpy_helper.from_array(v, k) for k, v in t.items()]
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "ln1_g", "ln1_b"], ["h1"], name="ln1", axis=-1, epsilon=1e-5),
        n("MatMul", ["h1", "wq"], ["q"], name="q_proj"),
        n("MatMul", ["h1", "wk"], ["k"], name="k_proj"),
        n("MatMul", ["h1", "wv"], ["v"], name="v_proj"),
    ]
    for s in "qkv":
        nodes += [n("Reshape", [s, "heads_shape"], [s + "4"], name=s + "_split"),
                  n("Transpose", [s + "4"], [s + "h"], name=s + "_heads", perm=[0, 2, 1, 3])]
    nodes += [
        n("SparseAttention", ["qh", "kh", "vh"], ["a"], name="attn", domain=KOLMO,
          blkq=32, blkk=32, mode="hybrid", rho=0.25, tau=0.9, simthresh=-0.1, causal=1, sink=1,
          pv_threshold=50.0),
        n("Transpose", ["a"], ["at"], name="merge_t", perm=[0, 2, 1, 3]),
        n("Reshape", ["at", "model_shape"], ["ar"], name="merge"),
        n("MatMul", ["ar", "wo"], ["o0"], name="o_proj"),
        n("Add", ["o0", "bo"], ["o"], name="o_bias"),
        n("Add", ["x", "o"], ["r1"], name="res1"),
        n("LayerNormalization", ["r1", "ln2_g", "ln2_b"], ["h2"], name="ln2", axis=-1, epsilon=1e-5),
        kan_node("h2", "ff0_base", "ff0_spline", None, "f0", lo=-2.0, hi=2.0, name="ff0"),
        kan_node("f0", "ff1_base", "ff1_spline", None, "f1", lo=-2.0, hi=2.0, name="ff1"),
        n("Add", ["r1", "f1"], ["y"], name="res2"),
    ]
    g = helper.make_graph(
        nodes, "kanformer_block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, S, D])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, S, D])], inits)
    model(g, "kanformer_block.onnx")


def mlp_silu():
    """x[1, 16] -> Gemm(32) -> x*Sigmoid(x) -> MatMul(16) + b -> Tanh -> Gemm(4, alpha 0.5)
    -> Softmax."""
    rng = np.random.default_rng(11)
    t = {
        "w0": rng.uniform(-0.25, 0.25, (32, 16)).astype(np.float32),  # Gemm transB=1: [N, K]
        "b0": rng.uniform(-0.1, 0.1, 32).astype(np.float32),
        "w1": rng.uniform(-0.25, 0.25, (32, 16)).astype(np.float32),  # MatMul: [K, N]
        "b1": rng.uniform(-0.1, 0.1, 16).astype(np.float32),
        "w2": rng.uniform(-0.25, 0.25, (16, 4)).astype(np.float32),  # Gemm transB=0: [K, N]
        "b2": rng.uniform(-0.1, 0.1, 4).astype(np.float32),
    }
    inits = [numpy_helper.from_array(v, k) for k, v in t.items()]
    n = helper.make_node
    nodes = [
        n("Gemm", ["x", "w0", "b0"], ["h0"], name="fc0", transB=1),
        n("Sigmoid", ["h0"], ["s0"], name="act0_sigmoid"),
        n("Mul", ["h0", "s0"], ["a0"], name="act0_mul"),
        n("MatMul", ["a0", "w1"], ["h1"], name="fc1"),
        n("Add", ["h1", "b1"], ["h1b"], name="fc1_bias"),
        n("Tanh", ["h1b"], ["a1"], name="act1"),
        n("Gemm", ["a1", "w2", "b2"], ["h2"], name="fc2", alpha=0.5),
        n("Softmax", ["h2"], ["y"], name="probs", axis=-1),
    ]
    g = helper.make_graph(
        nodes, "mlp_silu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    model(g, "mlp_silu.onnx")


def mlp_silu_reference():
    """Expected output of mlp_silu.onnx for one seeded input, computed here with numpy (an
    implementation independent of kolmo), as ONNX tensor files for tests/onnx."""
    m = onnx.load(os.path.join(HERE, "mlp_silu.onnx"))
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    x = np.random.default_rng(5).uniform(-1, 1, (1, 16))
    h0 = x @ w["w0"].T + w["b0"]
    a0 = h0 / (1 + np.exp(-h0))
    a1 = np.tanh(a0 @ w["w1"] + w["b1"])
    h2 = 0.5 * (a1 @ w["w2"]) + w["b2"]
    e = np.exp(h2 - h2.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    out = os.path.join(ROOT, "tests/onnx/cases/mlp_silu_io")
    os.makedirs(out, exist_ok=True)
    for name, arr in (("input_0.pb", ("x", x)), ("output_0.pb", ("y", y))):
        t = numpy_helper.from_array(arr[1].astype(np.float32), arr[0])
        with open(os.path.join(out, name), "wb") as f:
            f.write(t.SerializeToString())


def bad_cases():
    """Small models the importer must refuse with a clear error (tests/onnx/cases/)."""
    out = os.path.join(ROOT, "tests/onnx/cases")
    os.makedirs(out, exist_ok=True)
    n = helper.make_node
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])

    def save(nodes, name, opset=OPSET, inputs=(x,), inits=()):
        g = helper.make_graph(nodes, name, list(inputs), [y], list(inits))
        m = helper.make_model(g, producer_name="kolmo make_onnx.py",
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        onnx.save(m, os.path.join(out, name + ".onnx"))

    save([n("Relu", ["x"], ["y"], name="act")], "opset12", opset=12)
    save([n("Relu", ["x"], ["y"], name="act")], "opset18", opset=18)
    save([n("Relu", ["x"], ["h"], name="act"), n("Erf", ["h"], ["y"], name="gelu_erf")],
         "unsupported_op")
    dyn = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    save([n("Relu", ["x"], ["y"], name="act")], "dynamic_shape", inputs=(dyn,))
    shp = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    save([n("Reshape", ["x", "s"], ["y"], name="reshape_by_input")], "dynamic_reshape",
         inputs=(x, shp))


if __name__ == "__main__":
    digits_kan()
    kanformer_block()
    mlp_silu()
    mlp_silu_reference()
    bad_cases()
    sys.exit(0)
