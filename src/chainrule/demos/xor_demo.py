"""XOR three ways.

1. By hand: XOR(x) = AND(OR(x), NAND(x)) — two layers of the notes' logic neurons.
2. Learned: a network with one hidden layer (2-4-1, tanh, sigmoid output) trained from random
   weights with binary cross-entropy reaches 100% accuracy.
3. Impossible for a perceptron: no line separates XOR's classes, so Rosenblatt's rule keeps
   making mistakes every epoch.
"""

import numpy as np

import chainrule as cr
from chainrule.classic import Perceptron
from chainrule.demos import output_dir
from chainrule.demos.logic_demo import INPUTS, neuron

XOR = np.array([0, 1, 1, 0])


def by_hand():
    hidden = np.stack([neuron("OR", INPUTS).numpy(), neuron("NAND", INPUTS).numpy()], axis=1)
    return neuron("AND", hidden).numpy()


def learn(seed=0, epochs=2000, lr=0.1):
    """Train a 2-4-1 tanh network on the four XOR points; returns (model, loss history)."""
    cr.manual_seed(seed)
    nn = cr.nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x = cr.tensor(INPUTS.astype(np.float32))
    y = cr.tensor(XOR.reshape(-1, 1).astype(np.float32))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def main(out_dir=None):
    hand = by_hand()
    print("XOR = AND(OR(x), NAND(x)), from the notes' neurons:")
    for (x1, x2), value in zip(INPUTS.astype(int), hand):
        print(f"  {x1} xor {x2} = {value:.6f}")

    model, losses = learn()
    with cr.no_grad():
        probs = cr.sigmoid(model(cr.tensor(INPUTS.astype(np.float32)))).numpy().ravel()
    accuracy = float(np.mean((probs > 0.5) == XOR))
    print(f"\nLearned 2-4-1 network: loss {losses[0]:.4f} -> {losses[-1]:.6f}, "
          f"outputs {np.round(probs, 4).tolist()}, accuracy {accuracy:.0%}")

    perceptron = Perceptron(2, lr=1.0, seed=0)
    perceptron.fit(INPUTS, XOR, epochs=100)
    p_acc = float(perceptron.score(INPUTS, XOR))
    print(f"Perceptron after 100 epochs: accuracy {p_acc:.0%} "
          "(no straight line separates XOR's classes)")

    picture = None
    try:
        from chainrule.teach import plot_decision_boundary

        folder = output_dir(out_dir, "xor")
        picture = plot_decision_boundary(model, INPUTS.astype(np.float32), XOR,
                                         folder / "xor_decision_boundary.png",
                                         title="XOR learned by a 2-4-1 network")
        print(f"decision boundary written to {picture}")
    except ImportError as err:
        print(f"(no decision-boundary picture: {err})")
    return {"by_hand": hand, "accuracy": accuracy, "perceptron_accuracy": p_acc,
            "losses": losses, "picture": picture}


if __name__ == "__main__":
    main()
