"""SegFormer (MiT encoder + All-MLP head) written from architectures.md §3, with HF
SegformerForSemanticSegmentation state-dict names (segformer.encoder.*, decode_head.*).

Also the encoder of test/parity/models/serseg_former.py (FastSeg's SERSegFormer), which adds the
attention-boosting gate (`abg`) and extra input channels per stage (`side`, the depth map).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

CONFIGS = {
    'mit-b0': ([32, 64, 160, 256], [2, 2, 2, 2], 256),
    'mit-b1': ([64, 128, 320, 512], [2, 2, 2, 2], 256),
    'mit-b2': ([64, 128, 320, 512], [3, 4, 6, 3], 768),
    'mit-b3': ([64, 128, 320, 512], [3, 4, 18, 3], 768),
    'mit-b4': ([64, 128, 320, 512], [3, 8, 27, 3], 768),
    'mit-b5': ([64, 128, 320, 512], [3, 6, 40, 3], 768),
}
HEADS = [1, 2, 5, 8]
SR = [8, 4, 2, 1]
PATCH = [(7, 4, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1)]
# LayerNorm eps (patch embed, block, stage, spatial reduction) by checkpoint origin (§3.6.3).
EPS = {
    'official': (1e-5, 1e-6, 1e-6, 1e-5),
    'hf': (1e-5, 1e-5, 1e-5, 1e-5),
    'mmseg': (1e-6, 1e-6, 1e-6, 1e-6),
}


def gate(t):
    return t + t * torch.sigmoid(t)


class PatchEmbed(nn.Module):
    def __init__(self, cin, cout, k, s, p, eps, abg):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, k, s, p)
        self.layer_norm = nn.LayerNorm(cout, eps=eps)
        self.abg = abg

    def forward(self, x):
        x = self.proj(x)
        h, w = x.shape[2], x.shape[3]
        t = self.layer_norm(x.flatten(2).transpose(1, 2))
        return (gate(t) if self.abg else t), h, w


class SelfAttention(nn.Module):
    def __init__(self, c, heads, sr, eps, abg):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(c, c)
        self.key = nn.Linear(c, c)
        self.value = nn.Linear(c, c)
        self.r = sr
        self.abg = abg
        if sr > 1:
            self.sr = nn.Conv2d(c, c, sr, sr)
            self.layer_norm = nn.LayerNorm(c, eps=eps)

    def forward(self, x, h, w):
        b, n, c = x.shape
        d = c // self.heads
        y = x
        if self.r > 1:
            y = self.sr(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
            y = self.layer_norm(y)
            if self.abg:
                y = gate(y)
        q = self.query(x).reshape(b, n, self.heads, d).transpose(1, 2)
        k = self.key(y).reshape(b, -1, self.heads, d).transpose(1, 2)
        v = self.value(y).reshape(b, -1, self.heads, d).transpose(1, 2)
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return (attn @ v).transpose(1, 2).reshape(b, n, c)


class Dense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c, c)

    def forward(self, x):
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, c, heads, sr, eps, abg):
        super().__init__()
        self.self = SelfAttention(c, heads, sr, eps, abg)
        self.output = Dense(c)

    def forward(self, x, h, w):
        return self.output(self.self(x, h, w))


class DW(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dwconv = nn.Conv2d(c, c, 3, 1, 1, groups=c)

    def forward(self, x, h, w):
        b, n, c = x.shape
        return self.dwconv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)


class MixFFN(nn.Module):
    def __init__(self, c, hidden, abg):
        super().__init__()
        self.dense1 = nn.Linear(c, hidden)
        self.dwconv = DW(hidden)
        self.dense2 = nn.Linear(hidden, c)
        self.abg = abg

    def forward(self, x, h, w):
        d = self.dwconv(self.dense1(x), h, w)
        a = F.gelu(d)
        if self.abg:
            a = a + d * torch.sigmoid(d)
        return self.dense2(a)


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1)) < 1 - self.p).to(x.dtype)
        return x * keep / (1 - self.p)


class Layer(nn.Module):
    def __init__(self, c, heads, sr, dp, eps_block, eps_sr, abg):
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(c, eps=eps_block)
        self.attention = Attention(c, heads, sr, eps_sr, abg)
        self.drop_path = DropPath(dp)
        self.layer_norm_2 = nn.LayerNorm(c, eps=eps_block)
        self.mlp = MixFFN(c, 4 * c, abg)

    def forward(self, x, h, w):
        x = x + self.drop_path(self.attention(self.layer_norm_1(x), h, w))
        return x + self.drop_path(self.mlp(self.layer_norm_2(x), h, w))


class MiT(nn.Module):
    """HF SegformerEncoder layout; `side` extra channels are concatenated to every stage input."""

    def __init__(self, encoder='mit-b0', in_channels=3, drop_path=0.1, eps='official', abg=False, side=0):
        super().__init__()
        dims, depths, _ = CONFIGS[encoder]
        e_embed, e_block, e_stage, e_sr = EPS[eps]
        self.side = side
        self.patch_embeddings = nn.ModuleList(
            PatchEmbed((in_channels if i == 0 else dims[i - 1]) + side, dims[i], *PATCH[i], e_embed, abg) for i in range(4))
        dpr = torch.linspace(0, drop_path, sum(depths)).tolist()
        blocks, j = [], 0
        for i in range(4):
            blocks.append(nn.ModuleList(Layer(dims[i], HEADS[i], SR[i], dpr[j + k], e_block, e_sr, abg) for k in range(depths[i])))
            j += depths[i]
        self.block = nn.ModuleList(blocks)
        self.layer_norm = nn.ModuleList(nn.LayerNorm(d, eps=e_stage) for d in dims)

    def forward(self, x, sides=None):
        outs = []
        for i in range(4):
            if sides is not None:
                x = torch.cat([x, sides[i]], 1)
            t, h, w = self.patch_embeddings[i](x)
            for layer in self.block[i]:
                t = layer(t, h, w)
            t = self.layer_norm[i](t)
            x = t.transpose(1, 2).reshape(t.shape[0], -1, h, w)
            outs.append(x)
        return outs


class Backbone(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.encoder = MiT(**kw)

    def forward(self, x):
        return self.encoder(x)


class MLP(nn.Module):
    def __init__(self, cin, hidden):
        super().__init__()
        self.proj = nn.Linear(cin, hidden)

    def forward(self, x):
        b, _, h, w = x.shape
        return self.proj(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, -1, h, w)


class FusionHead(nn.Module):
    """linear_c.i → resize to the first map (align_corners False) → cat deepest first → fuse conv → BN → ReLU → dropout."""

    def __init__(self, in_channels, hidden, dropout):
        super().__init__()
        self.linear_c = nn.ModuleList(MLP(c, hidden) for c in in_channels)
        self.linear_fuse = nn.Conv2d(hidden * len(in_channels), hidden, 1, bias=False)
        self.batch_norm = nn.BatchNorm2d(hidden)
        self.dropout = dropout

    def fuse(self, feats):
        size = feats[0].shape[2:]
        es = [F.interpolate(m(f), size=size, mode='bilinear', align_corners=False) for f, m in zip(feats, self.linear_c)]
        return self.dropout(F.relu(self.batch_norm(self.linear_fuse(torch.cat(es[::-1], 1)))))


class DecodeHead(FusionHead):
    def __init__(self, in_channels, hidden, num_classes, p):
        super().__init__(in_channels, hidden, nn.Dropout2d(p))
        self.classifier = nn.Conv2d(hidden, num_classes, 1)

    def forward(self, feats):
        return self.classifier(self.fuse(feats))


class SegFormer(nn.Module):
    def __init__(self, encoder, numClasses, inChannels, decoderHiddenSize, dropPath, classifierDropout, layerNormEps):
        super().__init__()
        dims, _, hidden = CONFIGS[encoder]
        self.segformer = Backbone(encoder=encoder, in_channels=inChannels, drop_path=dropPath, eps=layerNormEps)
        self.decode_head = DecodeHead(dims, decoderHiddenSize or hidden, numClasses, classifierDropout)

    def forward(self, x):
        return self.decode_head(self.segformer(x))


def build(numClasses, encoder='mit-b0', inChannels=3, decoderHiddenSize=0, dropPath=0.1, classifierDropout=0.1, layerNormEps='official'):
    return SegFormer(encoder, numClasses, inChannels, decoderHiddenSize, dropPath, classifierDropout, layerNormEps)
