"""The historical view, in plain NumPy: Rosenblatt's perceptron and the delta-rule MLP.

No autograd here: ``MLP.backward`` is the layer-wise backpropagation of the lecture notes written
out by hand (``delta^l = (W^(l+1))^T delta^(l+1) * sigma'(z^l)``), and ``Perceptron.fit`` is the
1958 learning rule. The tests check the hand-written gradients against chainrule's autograd.

>>> from chainrule import classic
>>> net = classic.MLP([2, 8, 1], activation="tanh", loss="bce", seed=0)
>>> [W.shape for W in net.W]
[(8, 2), (1, 8)]
"""

from chainrule.classic.mlp import MLP
from chainrule.classic.perceptron import Perceptron

__all__ = ["MLP", "Perceptron"]
