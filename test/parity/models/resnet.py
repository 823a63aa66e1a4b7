"""torchvision's ResNet is the reference for segkit's backbone (same names, same code)."""
import torchvision


def build(depth=18, numClasses=1000, replaceStrideWithDilation=None):
    fn = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34,
          50: torchvision.models.resnet50, 101: torchvision.models.resnet101}[depth]
    kw = {'replace_stride_with_dilation': replaceStrideWithDilation} if replaceStrideWithDilation else {}
    return fn(num_classes=numClasses, **kw)
