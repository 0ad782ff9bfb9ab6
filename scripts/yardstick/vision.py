"""resnet50-cifar100 and resnet50-food101: torchvision's resnet50 trained as mlspeed's
workloads/resnet50.cpp does (the seed's loop):

    model = torchvision.models.resnet50(num_classes=C).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)     # fused=True on CUDA
    optimizer.zero_grad(set_to_none=True)
    with autocast: loss = F.cross_entropy(model(x), y)           # x channels-last
    scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()   # no clipping

Synthetic images (uniform [0, 1)) and labels, made once.
"""
import torch

from .common import Shape, Step, Unavailable, autocast, check_count, classifier_step, compile_module, count_params, \
    fused_kwargs, grad_scaler


class ResNet50Training:
    job = "train"

    def __init__(self, name, side, classes, batches, expected):
        self.name, self.side, self.classes, self.batches, self.expected = name, side, classes, batches, expected
        self.peers = (f"torchvision resnet50(num_classes={classes})",)
        self.sizes = ("full",)  # mlspeed's tiny ResNet (width 8) is not a torchvision model

    def shapes(self, size):
        return [Shape(b) for b in self.batches]

    def open(self, device, dtype_name, size):
        return _Session(self, device, dtype_name)


class _Session:
    def __init__(self, workload, device, dtype_name):
        try:
            import torchvision
        except Exception as e:
            raise Unavailable(f"torchvision does not import: {type(e).__name__}: {e}", True)
        self.w, self.device = workload, device
        self.autocast = autocast(device, dtype_name)
        torch.manual_seed(0)
        self.model = torchvision.models.resnet50(num_classes=workload.classes)
        check_count(workload.name, count_params(self.model), workload.expected)
        self.model = self.model.to(device, memory_format=torch.channels_last).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3,
                                          **fused_kwargs(torch.optim.Adam, device))
        self.scaler = grad_scaler(device, dtype_name)

    def prepare(self, shape, mode):
        model, optimizer, scaler, ctx = compile_module(self.model, mode), self.optimizer, self.scaler, self.autocast
        generator = torch.Generator().manual_seed(0)
        side = self.w.side
        x = torch.rand(shape.batch, 3, side, side, generator=generator)
        y = torch.randint(self.w.classes, (shape.batch,), generator=generator)
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        y = y.to(self.device)

        return Step(classifier_step(model, optimizer, scaler, ctx, x, y), shape.batch, "images")

    def close(self):
        self.model = self.optimizer = None


def workloads():
    return [
        ResNet50Training("resnet50-cifar100", 32, 100, (32, 128, 512), 23_712_932),
        ResNet50Training("resnet50-food101", 224, 101, (32, 64, 128), 23_714_981),
    ]
