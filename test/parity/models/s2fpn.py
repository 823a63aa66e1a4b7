"""S2-FPN (architectures.md §5): v1 = the paper version (strip-pooling SSAM, summing GFU), v2 = the
2023 rewrite (ScaleAwareBlock SSAM, gated GFU), on a torchvision ResNet.

Module names are the official code's (mohamedac29/S2-FPN), so its checkpoints' keys line up. Modules
and parameters that the official code builds but never executes are left out: the bias of `conv_sh`,
`conv_res`, the BN (and v2 PReLU) of every conv_block built with bn_act=False, and the ResNet-50
adapters `down2..down5` on ResNet-18/34. They carry no information a forward pass uses.

Max/avg pooling over H are written as amax/mean over dim 2 (same values) so torch.onnx.export
(opset 17) traces them without shape-dependent kernel sizes.
"""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class ConvBlock(nn.Module):
    """§5.1 conv_block: bare conv (bias False) or conv → BN → act (v1 ReLU, v2 per-channel PReLU)."""

    def __init__(self, cin, cout, k, s=1, p=0, d=1, g=1, bn_act=False, prelu=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, dilation=d, groups=g, bias=False)
        self.bn_act = bn_act
        if bn_act:
            self.bn = nn.BatchNorm2d(cout)
            self.act = nn.PReLU(cout) if prelu else nn.ReLU()

    def forward(self, x):
        x = self.conv(x)
        return self.act(self.bn(x)) if self.bn_act else x


class StripAttention(nn.Module):
    """§5.5 v1 SSAM (official `SpatialAttention`)."""

    def __init__(self, c):
        super().__init__()
        self.conv_sh = nn.Conv2d(c, c, 1, bias=False)
        self.bn_sh1 = nn.BatchNorm2d(c)
        self.bn_sh2 = nn.BatchNorm2d(c)
        self.fuse = ConvBlock(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        mx = self.bn_sh1(self.conv_sh(torch.amax(x, dim=2, keepdim=True)))
        av = self.bn_sh2(self.conv_sh(x.mean(dim=2, keepdim=True)))
        s = torch.softmax(mx * av, dim=1)
        f = s[:, 0:1] * av + s[:, 1:2] * mx
        o = F.dropout(self.fuse(f), p=0.15, training=self.training)
        return F.relu(self.gamma * o + (1 - self.gamma) * x)


class StripAttention2(nn.Module):
    """§5.5 v2 SSAM2 (official common_blocks `ScaleAwareStripAttention`)."""

    def __init__(self, c):
        super().__init__()
        self.conv_sh = nn.Conv2d(c, c, 1, bias=False)
        self.bn_sh1 = nn.BatchNorm2d(c)
        self.bn_sh2 = nn.BatchNorm2d(c)
        self.augmment_conv = nn.Conv2d(c, c, 1)
        self.conv_v = nn.Conv2d(c, c, 1)
        self.fuse = ConvBlock(c, c, 1)
        self.fuse_out = ConvBlock(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        mx = self.bn_sh1(self.conv_sh(torch.amax(x, dim=2, keepdim=True)))   # B×C×1×W
        av = self.bn_sh2(self.conv_sh(x))                                     # B×C×H×W
        att = torch.softmax(torch.bmm(mx.flatten(2).transpose(1, 2), av.flatten(2)), dim=1)  # B×W×HW
        v = self.conv_v(x.mean(dim=2, keepdim=True)).flatten(2)               # B×C×W
        t = self.augmment_conv(torch.bmm(v, att).reshape(x.shape))
        f = t[:, 0:1] * av + t[:, 1:2] * mx
        o = F.dropout(self.fuse(f), p=0.15, training=self.training)
        return self.fuse_out(F.relu(self.gamma * o + (1 - self.gamma) * x))


class Mlp(nn.Module):
    """§5.5 v2 MLP2: two dilated 3×3 CBAs (d 2, 4) to C/2 each, concatenated, 1×1 conv, sigmoid."""

    def __init__(self, c):
        super().__init__()
        self.dconv1 = ConvBlock(c, c // 2, 3, 1, 2, d=2, bn_act=True, prelu=True)
        self.dconv2 = ConvBlock(c, c // 2, 3, 1, 4, d=4, bn_act=True, prelu=True)
        self.fuse = ConvBlock(c, c, 1)

    def forward(self, x):
        return torch.sigmoid(self.fuse(torch.cat([self.dconv1(x), self.dconv2(x)], 1)))


class AttentionBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attn = StripAttention2(c)
        self.mlp = Mlp(c)

    def forward(self, x):
        x = x + self.attn(x)
        return x + self.mlp(x)


class ScaleAwareBlock(nn.Module):
    """§5.5 v2 SSAM: one AttentionBlock."""

    def __init__(self, c):
        super().__init__()
        self.tr = nn.Sequential(AttentionBlock(c))

    def forward(self, x):
        return self.tr(x)


class ChannelWise(nn.Module):
    """§5.6 CRB: SE without BN, reduction 4."""

    def __init__(self, c):
        super().__init__()
        self.conv_pool = nn.Sequential(ConvBlock(c, c // 4, 1), nn.ReLU(), ConvBlock(c // 4, c, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.conv_pool(x.mean(dim=(2, 3), keepdim=True))


class APF(nn.Module):
    """§5.4 Attention Pyramid Fusion (official `PyrmidFusionNet`); returns (APF_out, aux_logits)."""

    def __init__(self, c_high, c_low, c_out, k, v2):
        super().__init__()
        cb = lambda *a, **kw: ConvBlock(*a, prelu=v2, **kw)  # noqa: E731
        self.lateral_low = cb(c_low, c_high, 1, bn_act=True)
        self.conv_low = cb(c_high, c_out, 3, 1, 1, bn_act=True)
        self.sa = ScaleAwareBlock(c_out) if v2 else StripAttention(c_out)
        self.conv_high = cb(c_high, c_out, 3, 1, 1, bn_act=True)
        self.ca = ChannelWise(c_out)
        self.FRB = nn.Sequential(cb(2 * c_high, c_out, 1, bn_act=True), cb(c_out, c_out, 3, 1, 1, bn_act=True))
        self.classifier = nn.Sequential(cb(c_out, c_out, 3, 1, 1, bn_act=True), nn.Dropout(0.15), cb(c_out, k, 1))
        self.apf = cb(c_out, c_out, 3, 1, 1, bn_act=True)

    def forward(self, x_high, x_low):
        lat = self.lateral_low(x_low)
        hu = F.interpolate(x_high, size=lat.shape[2:], mode='bilinear', align_corners=False)
        fc = self.FRB(torch.cat([lat, hu], 1))
        z = self.sa(fc) * self.conv_high(hu) + self.ca(fc) * self.conv_low(lat)
        return self.apf(z), self.classifier(z)


class GFU(nn.Module):
    """§5.7 Global Feature Upsample (official `GlobalFeatureUpsample`)."""

    def __init__(self, c_low, c_in, c_out, v2):
        super().__init__()
        cb = lambda *a, **kw: ConvBlock(*a, prelu=v2, **kw)  # noqa: E731
        self.v2 = v2
        self.conv1 = cb(c_low, c_out, 1, bn_act=True)
        self.conv2 = nn.Sequential(cb(c_in, c_out, 1), nn.ReLU())
        if v2:
            self.conv3 = cb(c_out, c_out, 3, 1, 1, bn_act=True)
            self.s1 = cb(c_out // 2, c_out, 3, 1, 1, bn_act=True)
            self.s2 = nn.Sequential(cb(c_out // 2, c_out, 1), nn.BatchNorm2d(c_out), nn.Sigmoid())
            self.fuse = cb(2 * c_out, c_out, 3, 1, 1, bn_act=True)
        else:
            self.conv3 = cb(c_out, c_out, 1, bn_act=True)

    def forward(self, x_gui, y_high):
        yu = self.conv2(F.interpolate(y_high, size=x_gui.shape[2:], mode='bilinear', align_corners=True))
        xg = self.conv1(x_gui)
        fz = self.conv3(yu + xg)
        if not self.v2:
            return fz
        s1, s2 = torch.chunk(fz, 2, dim=1)
        return self.fuse(torch.cat([self.s1(s1) * yu, self.s2(s2) * xg], 1))


class SegHead(nn.Module):
    def __init__(self, cin, k):
        super().__init__()
        self.fc = ConvBlock(cin, k, 1)

    def forward(self, x):
        return self.fc(x)


class NarrowResNet(torchvision.models.ResNet):
    """torchvision's ResNet with every width scaled (stem and layer1..4), built by its own _make_layer."""

    def __init__(self, block, layers, width):
        super().__init__(block, layers)
        c = lambda n: int(n * width)  # noqa: E731
        self.inplanes = c(64)
        self.conv1 = nn.Conv2d(3, c(64), 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c(64))
        self.layer1 = self._make_layer(block, c(64), layers[0])
        self.layer2 = self._make_layer(block, c(128), layers[1], stride=2)
        self.layer3 = self._make_layer(block, c(256), layers[2], stride=2)
        self.layer4 = self._make_layer(block, c(512), layers[3], stride=2)


class S2FPN(nn.Module):
    def __init__(self, variant, encoder, num_classes, in_channels, width=1.0):
        super().__init__()
        v2 = variant == 'v2'
        depth = {'resnet18': 18, 'resnet34': 34, 'resnet34m': 34, 'resnet50': 50, 'resnet101': 101}[encoder]
        if width == 1:
            net = getattr(torchvision.models, f'resnet{depth}')()
        else:
            block = torchvision.models.resnet.BasicBlock if depth < 50 else torchvision.models.resnet.Bottleneck
            net = NarrowResNet(block, {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth], width)
        w = lambda n: int(n * width)  # noqa: E731
        if in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, w(64), 7, 2, 3, bias=False)
        self.no_max_pool = encoder == 'resnet34m'
        self.conv1_x, self.bn1, self.maxpool = net.conv1, net.bn1, net.maxpool
        self.conv2_x, self.conv3_x, self.conv4_x, self.conv5_x = net.layer1, net.layer2, net.layer3, net.layer4
        self.adapt = depth >= 50
        cb = lambda *a, **kw: ConvBlock(*a, prelu=v2, **kw)  # noqa: E731
        if self.adapt:
            self.down2 = cb(w(256), w(64), 3, 1, 1, bn_act=True)
            self.down3 = cb(w(512), w(128), 3, 1, 1, bn_act=True)
            self.down4 = cb(w(1024), w(256), 3, 1, 1, bn_act=True)
            self.down5 = cb(w(2048), w(512), 3, 1, 1, bn_act=True)
        self.fab = nn.Sequential(cb(w(512), w(256), 3, 1, 1, g=w(256), bn_act=True), nn.Dropout(0.15))
        self.cfgb = nn.Sequential(cb(w(512), w(512), 3, 2, 1, g=w(512), bn_act=True), nn.Dropout(0.15))
        self.gfu4 = GFU(w(256), w(256), w(256), v2)
        self.gfu3 = GFU(w(128), w(256), w(128), v2)
        self.gfu2 = GFU(w(64), w(128), w(64), v2)
        self.gfu1 = GFU(w(32), w(64), w(32), v2)
        self.apf1 = APF(w(512), w(512), w(256), num_classes, v2)
        self.apf2 = APF(w(256), w(256), w(128), num_classes, v2)
        self.apf3 = APF(w(128), w(128), w(64), num_classes, v2)
        self.apf4 = APF(w(64), w(64), w(32), num_classes, v2)
        # The official v1 calls the final classifier `classifier`, v2 `seghead`.
        self.head_name = 'seghead' if v2 else 'classifier'
        setattr(self, self.head_name, SegHead(w(32), num_classes))

    def forward(self, x):
        size = x.shape[2:]
        x1 = torch.relu(self.bn1(self.conv1_x(x)))
        x2 = self.conv2_x(x1 if self.no_max_pool else self.maxpool(x1))
        x3 = self.conv3_x(x2)
        x4 = self.conv4_x(x3)
        x5 = self.conv5_x(x4)
        if self.adapt:
            x2, x3, x4, x5 = self.down2(x2), self.down3(x3), self.down4(x4), self.down5(x5)
        a1, c1 = self.apf1(self.cfgb(x5), x5)
        a2, c2 = self.apf2(a1, x4)
        a3, c3 = self.apf3(a2, x3)
        a4, c4 = self.apf4(a3, x2)
        d5 = self.gfu4(a1, self.fab(x5))
        d4 = self.gfu3(a2, d5)
        d3 = self.gfu2(a3, d4)
        d2 = self.gfu1(a4, d3)
        up = lambda t: F.interpolate(t, size=size, mode='bilinear', align_corners=True)  # noqa: E731
        seg = up(getattr(self, self.head_name)(d2))
        if self.training:
            return seg, up(c1), up(c2), up(c3), up(c4)
        return seg


class TwoInputs(nn.Module):
    """Block-level parity for APF/GFU from one input x: the finer input is x (APF) or its first
    `split` channels (GFU), the coarser one x or its other channels average-pooled 2×2 (floor).
    APF's output is [out, aux]."""

    def __init__(self, block, split=None):
        super().__init__()
        self.block = block
        self.split = split

    def forward(self, x):
        fine, coarse = (x, x) if self.split is None else (x[:, :self.split], x[:, self.split:])
        coarse = F.avg_pool2d(coarse, 2)
        if isinstance(self.block, GFU):
            return self.block(fine, coarse)
        return list(self.block(coarse, fine))


def build_block(block, channels, numClasses):
    c = channels
    if block == 'ssam-v1':
        return StripAttention(c)
    if block == 'ssam-v2':
        return ScaleAwareBlock(c)
    if block == 'crb':
        return ChannelWise(c)
    if block in ('apf-v1', 'apf-v2'):
        return TwoInputs(APF(c, c, c // 2, numClasses, block == 'apf-v2'))
    if block in ('gfu-v1', 'gfu-v2'):
        return TwoInputs(GFU(c // 2, c // 2, c // 2, block == 'gfu-v2'), c // 2)
    raise ValueError(f'unknown block {block}')


def build(variant='v1', encoder='resnet18', numClasses=19, inChannels=3, parityInit=0.0, block=None, channels=32, widthMultiplier=1.0):
    """The model, or with `block` one module for block-level parity ('ssam-v1', 'ssam-v2', 'crb',
    'apf-v1', 'apf-v2', 'gfu-v1', 'gfu-v2'; `channels` wide, see TwoInputs for APF/GFU inputs).

    parityInit > 0 draws every conv outside the backbone from N(0, parityInit²/fan_in) and γ and the
    PReLU slopes at random (their inits 0 and 0.25 would hide errors in the attention path). The
    decoder multiplies branches (SSAM·conv, and v2's unbounded SSAM is itself a product), so with
    PyTorch's default init its attention terms fade to nothing and with a larger gain they overflow;
    ~1 keeps them in play."""
    model = build_block(block, channels, numClasses) if block else S2FPN(variant, encoder, numClasses, inChannels, widthMultiplier)
    if parityInit:
        with torch.no_grad():
            for name, m in model.named_modules():
                if isinstance(m, nn.Conv2d) and not re.match(r'conv[1-5]_x(\.|$)', name):
                    nn.init.normal_(m.weight, 0.0, parityInit / m.weight[0].numel() ** 0.5)
            for name, p in model.named_parameters():
                if name.endswith('gamma'):
                    p.uniform_(0.2, 0.8)
                elif name.endswith('act.weight'):
                    p.uniform_(0.0, 0.5)
    return model
