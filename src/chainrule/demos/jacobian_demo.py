"""Matrix calculus: for y = W x the Jacobian ∂y/∂x is W itself.

``cr.jacobian`` builds it one row at a time from reverse-mode passes: row i is the gradient
of y_i, i.e. backward with the seed e_i.
"""

import numpy as np

import chainrule as cr


def main(out_dir=None):
    W = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=cr.float64)
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    J = cr.jacobian(lambda v: W @ v, x)
    print(f"y = W x = {(W @ x).tolist()}")
    print(f"W =\n{W.numpy()}")
    print(f"Jacobian dy/dx =\n{J.numpy()}")
    equal = bool(np.array_equal(J.numpy(), W.numpy()))
    print(f"Jacobian equals W: {equal}")
    return {"jacobian": J.numpy(), "W": W.numpy(), "equal": equal}


if __name__ == "__main__":
    main()
