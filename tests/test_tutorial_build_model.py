"""PyTorch's "Learn the Basics: Build the Neural Network" tutorial, with ``torch`` renamed to
``cr`` (``from chainrule import nn``) and nothing else changed; prints become checks."""

import chainrule as cr
from chainrule import nn


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def test_build_the_neural_network_tutorial():
    cr.manual_seed(0)
    device = cr.accelerator.current_accelerator().type if cr.accelerator.is_available() else "cpu"
    print(f"Using {device} device")

    model = NeuralNetwork().to(device)
    print(model)

    X = cr.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    print(f"Predicted class: {y_pred}")
    assert logits.shape == (1, 10) and y_pred.shape == (1,) and 0 <= y_pred.item() < 10
    assert abs(pred_probab.sum().item() - 1) < 1e-5

    input_image = cr.rand(3,28,28)
    print(input_image.size())
    assert input_image.size() == (3, 28, 28)

    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    print(flat_image.size())
    assert flat_image.size() == (3, 784)

    layer1 = nn.Linear(in_features=28*28, out_features=20)
    hidden1 = layer1(flat_image)
    print(hidden1.size())
    assert hidden1.size() == (3, 20)

    print(f"Before ReLU: {hidden1}\n\n")
    hidden1 = nn.ReLU()(hidden1)
    print(f"After ReLU: {hidden1}")
    assert hidden1.data.min() >= 0

    seq_modules = nn.Sequential(
        flatten,
        layer1,
        nn.ReLU(),
        nn.Linear(20, 10)
    )
    input_image = cr.rand(3,28,28)
    logits = seq_modules(input_image)

    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    assert pred_probab.shape == (3, 10)

    print(f"Model structure: {model}\n\n")

    sizes = []
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
        sizes.append((name, tuple(param.size())))
    stack = "linear_relu_stack"
    assert sizes == [(f"{stack}.0.weight", (512, 784)), (f"{stack}.0.bias", (512,)),
                     (f"{stack}.2.weight", (512, 512)), (f"{stack}.2.bias", (512,)),
                     (f"{stack}.4.weight", (10, 512)), (f"{stack}.4.bias", (10,))]
