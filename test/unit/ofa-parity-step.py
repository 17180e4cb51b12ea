# One training step of OFA's reference (OFAMobileNetV3, ofa/imagenet_classification) for test/unit/ofa-parity.test.ts:
# the step that progressive_shrinking.train_one_epoch takes — a frozen teacher in train mode without gradients, the
# given subnets forward and backward on one batch (label-smoothed CE + kd_ratio x CE against the teacher's softmax),
# gradients summed, one SGD step (momentum, Nesterov, weight decay except on 'bn' and 'bias' parameters: OFA's
# no_decay_keys) — from the weights, batch and subnets the TypeScript side wrote.
# Usage: ofa-parity-step.py <ofa parent dir> <exchange dir>. Reads input.json + input.f32, writes output.json + output.f32.
import copy, json, os, sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3  # noqa: E402
from ofa.utils import cross_entropy_loss_with_soft_target, cross_entropy_with_label_smoothing  # noqa: E402

exchange = sys.argv[2]
torch.set_num_threads(1)
torch.manual_seed(0)
with open(os.path.join(exchange, "input.json")) as f:
    spec = json.load(f)
data = np.fromfile(os.path.join(exchange, "input.f32"), dtype=np.float32)


def tensor(entry):
    return torch.from_numpy(data[entry["offset"] : entry["offset"] + int(np.prod(entry["shape"]))].reshape(entry["shape"]).copy())


net = OFAMobileNetV3(
    n_classes=spec["classes"], dropout_rate=0, width_mult=1.0, ks_list=[3, 5, 7], expand_ratio_list=[3, 4, 6], depth_list=[2, 3, 4]
)
state = net.state_dict()
for name, entry in spec["weights"].items():
    state[name] = tensor(entry)
net.load_state_dict(state)
teacher = copy.deepcopy(net)
teacher_state = teacher.state_dict()
for name, entry in spec["teacher"].items():
    teacher_state[name] = tensor(entry)
teacher.load_state_dict(teacher_state)
teacher.set_max_net()

images = tensor(spec["images"])  # NCHW
labels = torch.from_numpy(np.array(spec["labels"], dtype=np.int64))
t = spec["training"]

# OFA's optimizer (run_config.build_optimizer with no_decay_keys 'bn#bias').
decay, no_decay = [], []
for name, p in net.named_parameters():
    (no_decay if ("bn" in name or "bias" in name) else decay).append(p)
optimizer = torch.optim.SGD(
    [{"params": decay, "weight_decay": t["weightDecay"]}, {"params": no_decay, "weight_decay": 0}],
    lr=t["learningRate"],
    momentum=t["momentum"],
    nesterov=t["nesterov"],
)

net.train()
teacher.train()
with torch.no_grad():
    soft_label = torch.softmax(teacher(images).detach(), dim=1)
net.zero_grad()
losses = []
for arch in spec["subnets"]:
    net.set_active_subnet(ks=arch["ks"], e=arch["e"], d=arch["d"])
    output = net(images)
    kd = cross_entropy_loss_with_soft_target(output, soft_label)
    loss = t["kdRatio"] * kd + cross_entropy_with_label_smoothing(output, labels, t["labelSmoothing"])
    losses.append(loss.item())
    loss.backward()
optimizer.step()

out, offset, chunks = {}, 0, []
for name, p in net.named_parameters():
    values = p.detach().numpy().astype(np.float32).ravel()
    out[name] = {"shape": list(p.shape), "offset": offset}
    offset += values.size
    chunks.append(values)
np.concatenate(chunks).tofile(os.path.join(exchange, "output.f32"))
with open(os.path.join(exchange, "output.json"), "w") as f:
    json.dump({"losses": losses, "weights": out, "torch": torch.__version__}, f)
