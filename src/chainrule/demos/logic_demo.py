"""Logic gates as single sigmoid neurons, with the weights from the lecture notes.

A neuron computes σ(w1·x1 + w2·x2 + b). Large weights push σ to 0 or 1, so the neuron
behaves like a Boolean gate:

    AND  = σ( 20·x1 + 20·x2 − 30)
    OR   = σ( 20·x1 + 20·x2 − 10)
    NAND = σ(−20·x1 − 20·x2 + 30)
"""

import numpy as np

import chainrule as cr

GATES = {
    "AND": ([20.0, 20.0], -30.0),
    "OR": ([20.0, 20.0], -10.0),
    "NAND": ([-20.0, -20.0], 30.0),
}
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TRUTH = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
}


def neuron(name, x):
    """The gate ``name`` applied to a batch ``x`` of shape (N, 2): σ(x @ w + b)."""
    w, b = GATES[name]
    return cr.sigmoid(cr.tensor(x, dtype=cr.float64) @ cr.tensor(w, dtype=cr.float64) + b)


def main(out_dir=None):
    results = {}
    for name, (w, b) in GATES.items():
        out = neuron(name, INPUTS).numpy()
        print(f"\n{name} = σ({w[0]:+g}·x1 {w[1]:+g}·x2 {b:+g})")
        print("  x1 x2 | target | neuron output")
        for (x1, x2), target, value in zip(INPUTS.astype(int), TRUTH[name], out):
            print(f"   {x1}  {x2} |   {target}    | {value:.6f}")
        results[name] = out
        results[f"{name}_correct"] = bool(np.all((out > 0.5) == np.array(TRUTH[name], bool)))
    return results


if __name__ == "__main__":
    main()
