"""PyTorch reference runs for segkit's parity tests and the peers of bench/models.

usage: python3 test/parity/reference.py MODEL OPTIONS_JSON SHAPE OUT_DIR [--seed N]
                                        [--weights FILE] [--onnx FILE] [--time N] [--mode eval|train]

MODEL names a file test/parity/models/MODEL.py whose build(**options) returns a torch.nn.Module
written from shared/docs/architectures.md (independently of segkit's TypeScript), with the same
state-dict names as segkit's model. SHAPE is NxCxHxW.

Writes to OUT_DIR:
  weights.safetensors  the state dict (random: PyTorch's own init, then BatchNorm statistics and
                       affine parameters randomised so that a wrong eval-mode BN shows), unless
                       --weights gives one to load
  input.safetensors    {'x': N(0, 1) input}
  output.safetensors   the forward outputs: 'output' for a tensor, 'output_<i>' for a tuple/list,
                       the dict keys for a dict
  model.onnx           with --onnx: torch.onnx.export of the same model (opset 17)
  timing.json          with --time N: median / min eager latency (ms) over N runs after warm-up,
                       torch.set_num_threads(2)
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import st  # noqa: E402


def load_builder(name):
    path = os.path.join(os.path.dirname(__file__), 'models', name + '.py')
    spec = importlib.util.spec_from_file_location('parity_' + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build


def randomise_norms(model, g):
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d, torch.nn.SyncBatchNorm)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        elif isinstance(m, torch.nn.LayerNorm) and m.elementwise_affine:
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def outputs_dict(y):
    if isinstance(y, torch.Tensor):
        return {'output': y}
    if isinstance(y, dict):
        return dict(y)
    return {f'output_{i}': t for i, t in enumerate(y)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('options')
    ap.add_argument('shape')
    ap.add_argument('out')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--weights')
    ap.add_argument('--onnx')
    ap.add_argument('--time', type=int, default=0)
    ap.add_argument('--mode', default='eval', choices=['eval', 'train'])
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed + 1)
    model = load_builder(a.model)(**json.loads(a.options))
    if a.weights:
        model.load_state_dict(st.load(a.weights), strict=True)
    else:
        randomise_norms(model, g)
    model.train(a.mode == 'train')
    os.makedirs(a.out, exist_ok=True)
    st.save(os.path.join(a.out, 'weights.safetensors'), model.state_dict())

    shape = [int(s) for s in a.shape.split('x')]
    x = torch.randn(shape, generator=g)
    st.save(os.path.join(a.out, 'input.safetensors'), {'x': x})
    with torch.no_grad():
        y = outputs_dict(model(x))
    st.save(os.path.join(a.out, 'output.safetensors'), {k: v.float() for k, v in y.items()})

    if a.onnx:
        with torch.no_grad():
            torch.onnx.export(model, (x,), a.onnx, opset_version=17, input_names=['x'], do_constant_folding=True)
    if a.time:
        torch.set_num_threads(2)
        ms = []
        with torch.no_grad():
            for i in range(a.time + 3):
                t0 = time.perf_counter()
                model(x)
                if i >= 3:
                    ms.append((time.perf_counter() - t0) * 1000)
        with open(os.path.join(a.out, 'timing.json'), 'w') as f:
            json.dump({'median_ms': statistics.median(ms), 'min_ms': min(ms), 'runs': len(ms), 'threads': torch.get_num_threads()}, f)


if __name__ == '__main__':
    main()
