"""Minimal safetensors read/write for the parity scripts (Debian has no python3-safetensors).

The format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
then the raw little-endian tensor bytes. Enough for float32/int64 state dicts.
"""
import json
import struct

import torch

_DT = {torch.float32: 'F32', torch.int64: 'I64', torch.float16: 'F16', torch.int32: 'I32', torch.uint8: 'U8'}
_TD = {v: k for k, v in _DT.items()}


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {'dtype': _DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        t = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=_TD[info['dtype']])
        out[name] = t.reshape(info['shape'])
    return out
