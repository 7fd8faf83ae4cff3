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


def train_loop(dataloader, model, loss_fn, optimizer, batch_size):
    size = len(dataloader.dataset)
    # Set the model to training mode - important for batch normalization and dropout layers
    # Unnecessary in this situation but added for best practices
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 100 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    # Set the model to evaluation mode - important for batch normalization and dropout layers
    # Unnecessary in this situation but added for best practices
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0

    # Evaluating the model with torch.no_grad() ensures that no gradients are computed during
    # test mode; also serves to reduce unnecessary gradient computations and memory usage for
    # tensors with requires_grad=True
    with cr.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(cr.float).sum().item()

    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct, test_loss


test_loop.__test__ = False  # the tutorial's name, not a pytest test


def test_optimizing_model_parameters_tutorial():
    # The tutorial trains on FashionMNIST from torchvision; a separable 10-class stand-in with
    # the same shapes (1x28x28 images) keeps this offline and fast.
    from chainrule.utils.data import DataLoader, TensorDataset

    cr.manual_seed(0)
    g = cr.Generator().manual_seed(0)
    centers = cr.randn(10, 1, 28, 28, generator=g)
    labels = cr.randint(0, 10, (600,), generator=g)
    images = centers[labels] + 0.5 * cr.randn(600, 1, 28, 28, generator=g)
    training_data = TensorDataset(images[:500], labels[:500])
    test_data = TensorDataset(images[500:], labels[500:])

    learning_rate = 1e-1  # the tutorial's 1e-3 is for 10 epochs over 60,000 images
    batch_size = 64
    epochs = 3

    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    model = NeuralNetwork()

    # Initialize the loss function
    loss_fn = nn.CrossEntropyLoss()
    optimizer = cr.optim.SGD(model.parameters(), lr=learning_rate)
    _, first_loss = test_loop(test_dataloader, model, loss_fn)

    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer, batch_size)
        correct, test_loss = test_loop(test_dataloader, model, loss_fn)
    print("Done!")
    assert correct > 0.9 and test_loss < first_loss
