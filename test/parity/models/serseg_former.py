"""FastSeg's SERSegFormer written from architectures.md §2.1, §2.4 and §6.2, with FastSeg's
state-dict names (sersegformer.encoder.*, decode_head.*). The MiT encoder and the All-MLP fusion
come from ./segformer.py (HF layout; LayerNorm eps 1e-5 everywhere as in FastSeg's HF copy).

Where FastSeg resizes by scale factors this resizes to explicit sizes (equal where FastSeg runs,
H and W multiples of 16): the depth map to each stage's input size; with `upsample`, the first ×2
to ceil(H/2)×ceil(W/2), the AfN ×4 back to that size, the second ×2 to H×W. With depthChannel the
input's last channel is the depth map.
"""
import importlib.util
import os

import torch
import torch.nn.functional as F
from torch import nn

_spec = importlib.util.spec_from_file_location('parity_segformer_for_serseg', os.path.join(os.path.dirname(__file__), 'segformer.py'))
seg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seg)


def boosted(prelu, y):
    """FastSeg's AbG unit output: PReLU(y) + y·σ(y)."""
    return prelu(y) + y * torch.sigmoid(y)


class AFN(nn.Module):
    """Three AbG conv units C→C (conv1/bn1/relu1 …); strides (1,1,1) spatial, (2,2,1) context."""

    def __init__(self, c, strides):
        super().__init__()
        for i, s in enumerate(strides, 1):
            setattr(self, f'conv{i}', nn.Conv2d(c, c, 3, s, 1, bias=False))
            setattr(self, f'bn{i}', nn.BatchNorm2d(c))
            setattr(self, f'relu{i}', nn.PReLU())

    def forward(self, x):
        for i in (1, 2, 3):
            x = boosted(getattr(self, f'relu{i}'), getattr(self, f'bn{i}')(getattr(self, f'conv{i}')(x)))
        return x


def spatial_afn(c):
    return AFN(c, (1, 1, 1))


def context_afn(c):
    return AFN(c, (2, 2, 1))


class CBP(nn.Module):
    def __init__(self, cin, cout, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, dilation, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.PReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class DbN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dilated_conv1 = CBP(c, c, 12)
        self.dilated_conv2 = CBP(c, c, 16)
        self.dilated_conv3 = CBP(c, c, 18)

    def forward(self, x):
        return self.dilated_conv1(x) + self.dilated_conv2(x) + self.dilated_conv3(x)


class Upsample(CBP):
    """Bilinear (align_corners True) to `size`, then CBP 3×3."""

    def forward(self, x, size):
        return super().forward(F.interpolate(x, size=size, mode='bilinear', align_corners=True))


class GAP(nn.Module):
    def forward(self, x):
        return x.mean((2, 3), keepdim=True)


class ChannelMean(nn.Module):
    def forward(self, x):
        return x.mean(1, keepdim=True)


class Branch(nn.Module):
    def __init__(self, cin, cout, attn):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.attn = attn

    def forward(self, x):
        y = self.conv(x)
        return y + y * self.attn(y)


class DAMBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.cam = Branch(c, h, nn.Sequential(GAP(), nn.Conv2d(h, h, 1), nn.PReLU(), nn.Conv2d(h, h, 1, bias=False), nn.Sigmoid()))
        self.sam = Branch(c, c - h, nn.Sequential(ChannelMean(), nn.Conv2d(1, 1, 7, 1, 3), nn.PReLU(), nn.Conv2d(1, 1, 7, 1, 6, dilation=2), nn.Sigmoid()))

    def forward(self, x):
        return torch.cat([self.cam(x), self.sam(x)], 1)


class DAM(nn.Module):
    def __init__(self, c, n=2):
        super().__init__()
        self.dam = nn.Sequential(*[DAMBlock(c) for _ in range(n)])

    def forward(self, x):
        return self.dam(x)


class PixelLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class DecodeHead(seg.FusionHead):
    def __init__(self, c, hidden, num_classes, p, dbn, afn, dam, upsample, depth):
        widths = list(c)
        if dbn:
            widths[0], widths[1] = 2 * widths[0], 2 * widths[1]
        if afn:
            widths[0], widths[1] = 2 * widths[0], 2 * widths[1]
            widths[2] = 2 * widths[2] + widths[0]
            widths[3] = 2 * widths[3] + widths[1]
        if depth:
            for i in range(3):
                widths[i] += 1
        super().__init__(widths, hidden, nn.Dropout(p))
        self.switches = (dbn, afn, dam, upsample, depth)
        q = hidden // 4
        if upsample:
            self.upsample1 = Upsample(hidden, q)
            self.upsample2 = Upsample(q, q)
        self.classifier = PixelLinear(q if upsample else hidden, num_classes)
        if dam:
            self.dam = DAM(widths[0])
        if dbn:
            self.dbn1 = DbN(c[0])
            self.dbn2 = DbN(c[1])
        if afn:
            a0, a1 = (2 * c[0], 2 * c[1]) if dbn else (c[0], c[1])
            self.afn11 = spatial_afn(a0)
            self.afn13 = context_afn(2 * a0)
            self.afn22 = spatial_afn(a1)
            self.afn24 = context_afn(2 * a1)
            self.afn33 = spatial_afn(c[2])
            self.afn44 = spatial_afn(c[3])
            if upsample:
                self.afn_final = nn.Sequential(context_afn(q), Upsample(q, q))

    def forward(self, feats, depths, size):
        dbn, afn, dam, upsample, depth = self.switches
        f = list(feats)
        if dbn:
            f[0] = torch.cat([self.dbn1(f[0]), f[0]], 1)
            f[1] = torch.cat([self.dbn2(f[1]), f[1]], 1)
        if afn:
            g0 = torch.cat([self.afn11(f[0]), f[0]], 1)
            g1 = torch.cat([self.afn22(f[1]), f[1]], 1)
            f[2] = torch.cat([self.afn13(g0), self.afn33(f[2]), f[2]], 1)
            f[3] = torch.cat([self.afn24(g1), self.afn44(f[3]), f[3]], 1)
            f[0], f[1] = g0, g1
        if depth:
            for i in range(3):
                f[i] = torch.cat([f[i], depths[i]], 1)
        if dam:
            f[0] = self.dam(f[0])
        x = self.fuse(f)
        if upsample:
            h, w = size
            x = self.upsample1(x, ((h + 1) // 2, (w + 1) // 2))
            if afn:
                x = x + self.afn_final[1](self.afn_final[0](x), x.shape[2:])
            x = self.upsample2(x, (h, w))
        return self.classifier(x)


def conv_out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


class SERSegFormer(nn.Module):
    def __init__(self, numClasses, inChannels, encoder, abg, dbn, afn, dam, upsample, depthChannel, decoderHiddenSize, dropPath, classifierDropout):
        super().__init__()
        self.in_channels = inChannels
        self.depth = depthChannel
        self.sersegformer = seg.Backbone(encoder=encoder, in_channels=inChannels, drop_path=dropPath, eps='hf', abg=abg, side=1 if depthChannel else 0)
        c = seg.CONFIGS[encoder][0]
        self.decode_head = DecodeHead(c, decoderHiddenSize, numClasses, classifierDropout, dbn, afn, dam, upsample, depthChannel)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        if not self.depth:
            return self.decode_head(self.sersegformer.encoder(x), [], (h, w))
        image, depth = x[:, :self.in_channels], x[:, self.in_channels:]
        sides, sh, sw = [depth], h, w
        for k, s, p in seg.PATCH[:3]:
            sh, sw = conv_out(sh, k, s, p), conv_out(sw, k, s, p)
            sides.append(F.interpolate(depth, size=(sh, sw), mode='bilinear', align_corners=False))
        return self.decode_head(self.sersegformer.encoder(image, sides), sides[1:], (h, w))


def build(numClasses, inChannels=3, encoder='mit-b0', abg=False, dbn=False, afn=False, dam=False, upsample=False,
          depthChannel=False, decoderHiddenSize=256, dropPath=0.1, classifierDropout=0.1):
    return SERSegFormer(numClasses, inChannels, encoder, abg, dbn, afn, dam, upsample, depthChannel, decoderHiddenSize, dropPath, classifierDropout)
