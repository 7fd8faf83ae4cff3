"""The op table: one row per differentiable primitive (DESIGN.md, "Ops as a table").

A row names the op in chainrule, PyTorch and NumPy, says how to draw sample inputs, and states
the backward rule in one line per input. The same rows drive

* the oracle tests (``tests/test_op_table.py``): forward and gradients against PyTorch in
  float64 and float32, broadcasting, every axis/keepdims form, 0-d and empty tensors, edge
  values, and ``cr.gradcheck``;
* the rule text that ``cr.explain()`` prints for each edge of a graph;
* the operator table of the docs: ``python -m chainrule.ops.registry > docs/operators.md``.

Adding an op is one function pair in ``ops/`` plus one row here. A row is ``OpInfo(...)``:

``name``
    the chainrule function, ``cr.<name>`` (dotted paths such as ``nn.functional.silu`` work).
``torch`` / ``numpy``
    the PyTorch and NumPy names (paths under ``torch`` and ``numpy``), ``""`` when there is none.
    The test calls ``torch.<torch>`` with the same arguments unless the test module maps it.
``rule``
    a tuple with one line per differentiable input: the vector-Jacobian product in words.
``kind``
    how the table test drives the row: ``"unary"`` (one tensor; shapes, 0-d, empty, edge
    values), ``"binary"`` (two tensors; broadcasting), ``"reduction"`` (``axis``/``dim`` and
    ``keepdims``/``keepdim`` over every axis form), ``"scan"`` (one ``dim`` at a time),
    ``"other"`` (tested by hand elsewhere; the row still gives the docs and ``explain`` its rule).
``domain``
    the sample-input generator per tensor input, a key of :data:`DOMAINS`.
``kwargs``
    keyword variants to test, e.g. ``({}, {"p": 1})``; ``args``: extra positional arguments.
``op``
    the name the op records on the graph (``t.op``), when it differs from ``name``.
``axes``
    for reductions: ``"many"`` (any tuple of axes) or ``"one"`` (a single dim, e.g. ``prod``).
``grad``, ``gradcheck``, ``edge``, ``integer``
    whether the op is differentiable, is smooth enough for finite differences, is checked on
    0, ±inf and NaN against PyTorch, and accepts integer tensors (checked against PyTorch's
    result dtype).
``rtol``
    a looser float64 tolerance where PyTorch itself is less exact (say why in a comment).

>>> ROWS["sin"].rule
('∂sin x/∂x = cos x',)
>>> rule_texts()["mul"]
('∂(x·y)/∂x = y', '∂(x·y)/∂y = x')
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OpInfo:
    """One row of the op table (see the module docstring for the fields)."""

    name: str
    torch: str
    numpy: str
    rule: tuple
    kind: str = "unary"
    domain: tuple = ("real",)
    kwargs: tuple = ({},)
    args: tuple = ()
    op: str = ""
    axes: str = "many"
    grad: bool = True
    gradcheck: bool = True
    edge: bool = True
    integer: bool = False
    rtol: float = 0.0

    @property
    def graph_op(self):
        return self.op or self.name.rsplit(".", 1)[-1]


def _real(rng, shape):
    return rng.standard_normal(shape)


def _away(x, points, margin=0.05):
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < margin
        x[near] = p + np.where(x[near] >= p, 2 * margin, -2 * margin)
    return x


def _sign_flip(rng, x):
    return x * np.where(rng.random(x.shape) < 0.5, -1.0, 1.0)


DOMAINS = {
    "real": _real,
    "smooth": lambda rng, s: _away(rng.standard_normal(s) * 2, (0.0,)),
    "positive": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "nonzero": lambda rng, s: _sign_flip(rng, rng.uniform(0.5, 2.0, s)),
    "unit": lambda rng, s: rng.uniform(-0.9, 0.9, s),
    "above1": lambda rng, s: rng.uniform(1.1, 3.0, s),
    "hard": lambda rng, s: _away(rng.uniform(-5, 5, s), (-3.0, 3.0, -1.0, 1.0, 0.0)),
    "relu6": lambda rng, s: _away(rng.uniform(-2, 8, s), (0.0, 6.0)),
    "threshold": lambda rng, s: _away(rng.standard_normal(s), (0.5,)),
    "fraction": lambda rng, s: _away(rng.uniform(-4, 4, s), tuple(range(-4, 5)), 0.02),
    "weight": lambda rng, s: rng.uniform(0.0, 1.0, s),
    "distinct": lambda rng, s: rng.permutation(np.prod(s, dtype=int)).reshape(s) * 0.37 - 2.0,
}
"""Sample-input generators ``(rng, shape) -> float64 array``: ``smooth`` keeps away from 0
(for |x|, sign-like kinks), ``hard`` from the kinks of the hard activations, ``fraction`` from
the integers (for floor/frac/fmod), ``distinct`` has no ties (for max/median/cummax)."""


def sample(domain, shape, seed=0):
    """Draw a float64 sample of ``shape`` from :data:`DOMAINS` (deterministic in ``seed``).

    >>> sample("positive", (2,)).min() > 0
    np.True_
    """
    return np.array(DOMAINS[domain](np.random.default_rng(seed), shape), dtype=np.float64)


U, B, R, S, O = "unary", "binary", "reduction", "scan", "other"

_TABLE = [
    # ----------------------------------------------------------------- arithmetic
    OpInfo("add", "add", "add", ("∂(x+y)/∂x = 1", "∂(x+y)/∂y = 1"), B, ("real", "real")),
    OpInfo("sub", "sub", "subtract", ("∂(x−y)/∂x = 1", "∂(x−y)/∂y = −1"), B, ("real", "real")),
    OpInfo("mul", "mul", "multiply", ("∂(x·y)/∂x = y", "∂(x·y)/∂y = x"), B, ("real", "real")),
    OpInfo("div", "div", "true_divide", ("∂(x/y)/∂x = 1/y", "∂(x/y)/∂y = −x/y²"), B,
           ("real", "nonzero")),
    OpInfo("neg", "neg", "negative", ("∂(−x)/∂x = −1",)),
    OpInfo("pow", "pow", "power", ("∂(xᵖ)/∂x = p·xᵖ⁻¹", "∂(xʸ)/∂y = xʸ·ln x"), B,
           ("positive", "real")),
    OpInfo("maximum", "maximum", "maximum", ("g to the larger input (ties: half each)",) * 2, B,
           ("real", "real")),
    OpInfo("minimum", "minimum", "minimum", ("g to the smaller input (ties: half each)",) * 2, B,
           ("real", "real")),
    OpInfo("matmul", "matmul", "matmul", ("∂(X@Y)/∂X: g ↦ g @ Yᵀ", "∂(X@Y)/∂Y: g ↦ Xᵀ @ g"), O),
    OpInfo("nn.functional.linear", "nn.functional.linear", "",
           ("g ↦ g @ W", "g ↦ gᵀ @ x", "g ↦ Σ_rows g"), O, op="linear"),
    # ----------------------------------------------------------------- exp / log family
    OpInfo("exp", "exp", "exp", ("∂eˣ/∂x = eˣ",)),
    OpInfo("exp2", "exp2", "exp2", ("∂2ˣ/∂x = 2ˣ·ln 2",)),
    OpInfo("expm1", "expm1", "expm1", ("∂(eˣ−1)/∂x = eˣ",)),
    OpInfo("log", "log", "log", ("∂ln x/∂x = 1/x",), domain=("positive",)),
    OpInfo("log2", "log2", "log2", ("∂log₂x/∂x = 1/(x·ln 2)",), domain=("positive",)),
    OpInfo("log10", "log10", "log10", ("∂log₁₀x/∂x = 1/(x·ln 10)",), domain=("positive",)),
    OpInfo("log1p", "log1p", "log1p", ("∂ln(1+x)/∂x = 1/(1+x)",), domain=("positive",)),
    OpInfo("sqrt", "sqrt", "sqrt", ("∂√x/∂x = 1/(2√x)",), domain=("positive",)),
    OpInfo("rsqrt", "rsqrt", "", ("∂(1/√x)/∂x = −½·x^(−3/2)",), domain=("positive",)),
    OpInfo("square", "square", "square", ("∂x²/∂x = 2x",), integer=True),
    OpInfo("reciprocal", "reciprocal", "reciprocal", ("∂(1/x)/∂x = −1/x²",),
           domain=("nonzero",)),
    OpInfo("abs", "abs", "abs", ("∂|x|/∂x = sign(x)",), domain=("smooth",), integer=True),
    # ----------------------------------------------------------------- trigonometric
    OpInfo("sin", "sin", "sin", ("∂sin x/∂x = cos x",)),
    OpInfo("cos", "cos", "cos", ("∂cos x/∂x = −sin x",)),
    OpInfo("tan", "tan", "tan", ("∂tan x/∂x = 1 + tan²x",), domain=("unit",)),
    OpInfo("asin", "asin", "arcsin", ("∂asin x/∂x = 1/√(1 − x²)",), domain=("unit",)),
    OpInfo("acos", "acos", "arccos", ("∂acos x/∂x = −1/√(1 − x²)",), domain=("unit",)),
    OpInfo("atan", "atan", "arctan", ("∂atan x/∂x = 1/(1 + x²)",)),
    OpInfo("sinh", "sinh", "sinh", ("∂sinh x/∂x = cosh x",)),
    OpInfo("cosh", "cosh", "cosh", ("∂cosh x/∂x = sinh x",)),
    OpInfo("tanh", "tanh", "tanh", ("∂tanh x/∂x = 1 − tanh²x",)),
    OpInfo("asinh", "asinh", "arcsinh", ("∂asinh x/∂x = 1/√(x² + 1)",)),
    OpInfo("acosh", "acosh", "arccosh", ("∂acosh x/∂x = 1/√(x² − 1)",), domain=("above1",)),
    OpInfo("atanh", "atanh", "arctanh", ("∂atanh x/∂x = 1/(1 − x²)",), domain=("unit",)),
    OpInfo("atan2", "atan2", "arctan2", ("∂/∂y = x/(x² + y²)", "∂/∂x = −y/(x² + y²)"), B,
           ("nonzero", "nonzero")),
    OpInfo("hypot", "hypot", "hypot", ("∂/∂x = x/out", "∂/∂y = y/out"), B,
           ("nonzero", "nonzero")),
    OpInfo("logaddexp", "logaddexp", "logaddexp", ("∂/∂x = e^(x − out)", "∂/∂y = e^(y − out)"),
           B, ("real", "real")),
    OpInfo("copysign", "copysign", "copysign", ("∂/∂x = out/x (0 at x = 0)", "∂/∂y = 0"), B,
           ("smooth", "smooth")),
    OpInfo("lerp", "lerp", "", ("∂/∂start = 1 − w", "∂/∂end = w", "∂/∂w = end − start"), O),
    OpInfo("erf", "erf", "", ("∂erf x/∂x = (2/√π)·e^(−x²)",)),
    OpInfo("erfc", "erfc", "", ("∂erfc x/∂x = −(2/√π)·e^(−x²)",)),
    # ----------------------------------------------------------------- rounding and modular
    OpInfo("sign", "sign", "sign", ("0 (piecewise constant)",), integer=True, gradcheck=False),
    OpInfo("floor", "floor", "floor", ("0 (piecewise constant)",), domain=("fraction",),
           integer=True),
    OpInfo("ceil", "ceil", "ceil", ("0 (piecewise constant)",), domain=("fraction",),
           integer=True),
    OpInfo("trunc", "trunc", "trunc", ("0 (piecewise constant)",), domain=("fraction",),
           integer=True),
    OpInfo("round", "round", "round", ("0 (piecewise constant)",), domain=("fraction",),
           kwargs=({}, {"decimals": 1}), integer=True, gradcheck=False),
    OpInfo("frac", "frac", "", ("∂frac x/∂x = 1",), domain=("fraction",)),
    OpInfo("fmod", "fmod", "fmod", ("∂/∂x = 1", "∂/∂y = −trunc(x/y)"), B,
           ("fraction", "nonzero"), gradcheck=False),
    OpInfo("remainder", "remainder", "remainder", ("∂/∂x = 1", "∂/∂y = −floor(x/y)"), B,
           ("fraction", "nonzero"), gradcheck=False),
    OpInfo("nan_to_num", "nan_to_num", "nan_to_num", ("g where x is finite, else 0",)),
    # ----------------------------------------------------------------- activations
    OpInfo("relu", "relu", "", ("∂relu(x)/∂x = 1 if x > 0 else 0",), domain=("smooth",)),
    OpInfo("sigmoid", "sigmoid", "", ("∂σ(x)/∂x = σ(x)(1 − σ(x))",)),
    OpInfo("nn.functional.leaky_relu", "nn.functional.leaky_relu", "",
           ("1 if x > 0 else negative_slope",), domain=("smooth",),
           kwargs=({}, {"negative_slope": 0.2}), op="leaky_relu"),
    OpInfo("nn.functional.elu", "nn.functional.elu", "", ("1 if x > 0 else out + α",),
           domain=("smooth",), kwargs=({}, {"alpha": 0.5}), op="elu"),
    OpInfo("nn.functional.gelu", "nn.functional.gelu", "", ("Φ(x) + x·φ(x)",),
           kwargs=({}, {"approximate": "tanh"}), op="gelu"),
    OpInfo("nn.functional.softplus", "nn.functional.softplus", "",
           ("σ(β·x) (1 above the threshold)",), kwargs=({}, {"beta": 2.0}), op="softplus"),
    OpInfo("silu", "nn.functional.silu", "", ("σ(x)(1 + x(1 − σ(x)))",)),
    OpInfo("mish", "nn.functional.mish", "", ("tanh(sp) + x·σ(x)(1 − tanh²(sp))",)),
    OpInfo("hardswish", "nn.functional.hardswish", "",
           ("0 (x ≤ −3), x/3 + ½ (|x| < 3), 1 (x ≥ 3)",), domain=("hard",), rtol=1e-7),
    # PyTorch's kernels use the float32 constant 1/6 even in float64: agree to 1e-7 there
    OpInfo("hardsigmoid", "nn.functional.hardsigmoid", "", ("1/6 on (−3, 3), else 0",),
           domain=("hard",), rtol=1e-7),
    OpInfo("hardtanh", "nn.functional.hardtanh", "", ("1 inside (min_val, max_val), else 0",),
           domain=("hard",), kwargs=({}, {"min_val": -2.0, "max_val": 2.5})),
    OpInfo("relu6", "nn.functional.relu6", "", ("1 on (0, 6), else 0",), domain=("relu6",),
           op="hardtanh"),
    OpInfo("selu", "nn.functional.selu", "", ("scale (x > 0), scale·α·eˣ (x ≤ 0)",),
           domain=("smooth",)),
    OpInfo("celu", "nn.functional.celu", "", ("1 (x > 0), e^(x/α) (x ≤ 0)",),
           domain=("smooth",), kwargs=({}, {"alpha": 0.5})),
    OpInfo("softsign", "nn.functional.softsign", "", ("1/(1 + |x|)²",), domain=("smooth",)),
    OpInfo("logsigmoid", "nn.functional.logsigmoid", "", ("σ(−x)",)),
    OpInfo("tanhshrink", "nn.functional.tanhshrink", "", ("tanh²x",)),
    OpInfo("threshold", "nn.functional.threshold", "", ("1 where x > threshold, else 0",),
           domain=("threshold",), args=(0.5, -1.0)),
    OpInfo("prelu", "nn.functional.prelu", "",
           ("1 (x > 0) or weight", "Σ x over the elements with x ≤ 0"), O),
    OpInfo("glu", "nn.functional.glu", "", ("σ(b) for the first half, a·σ(b)(1 − σ(b)) for "
                                            "the second",), O),
    OpInfo("softmax", "softmax", "", ("s ⊙ (g − Σ g·s)",), O),
    OpInfo("log_softmax", "log_softmax", "", ("g − softmax(x)·Σ g",), O),
    OpInfo("softmin", "nn.functional.softmin", "", ("softmax's rule on −x",), O, op="softmax"),
    # ----------------------------------------------------------------- reductions
    OpInfo("sum", "sum", "sum", ("∂Σx/∂xᵢ = 1",), R),
    OpInfo("mean", "mean", "mean", ("∂mean(x)/∂xᵢ = 1/N",), R),
    OpInfo("amax", "amax", "max", ("g shared evenly by the maxima",), R),
    OpInfo("amin", "amin", "min", ("g shared evenly by the minima",), R),
    OpInfo("max", "amax", "max", ("g to the maximum (dim=: to the index returned)",), R),
    OpInfo("min", "amin", "min", ("g to the minimum (dim=: to the index returned)",), R),
    OpInfo("var", "var", "var", ("∂/∂xᵢ = 2(xᵢ − mean)/(N − correction)",), R,
           kwargs=({}, {"correction": 0}, {"correction": 2})),
    OpInfo("std", "std", "std", ("∂/∂xᵢ = (xᵢ − mean)/((N − correction)·std)",), R,
           kwargs=({}, {"correction": 0})),
    OpInfo("logsumexp", "logsumexp", "", ("∂/∂xᵢ = softmax(x)ᵢ",), R),
    OpInfo("prod", "prod", "prod", ("∂/∂xᵢ = Π_{j≠i} xⱼ",), R, axes="one"),
    OpInfo("norm", "norm", "linalg.norm", ("sign(x)·|x|^(p−1)/out^(p−1)",), R,
           kwargs=({}, {"p": 1}, {"p": 3}, {"p": float("inf")}), axes="norm"),
    OpInfo("median", "median", "", ("g to the median element",), R, axes="one",
           domain=("distinct",)),
    # ----------------------------------------------------------------- scans
    OpInfo("cumsum", "cumsum", "cumsum", ("reversed running sum of g",), S),
    OpInfo("cumprod", "cumprod", "cumprod", ("Σ_{j≥i} g_j·Π_{k≤j, k≠i} x_k",), S),
    OpInfo("cummax", "cummax", "maximum.accumulate", ("g to the running maximum's source",), S,
           domain=("distinct",)),
    OpInfo("cummin", "cummin", "minimum.accumulate", ("g to the running minimum's source",), S,
           domain=("distinct",)),
    OpInfo("logcumsumexp", "logcumsumexp", "logaddexp.accumulate",
           ("Σ_{j≥i} g_j·e^(x_i − out_j)",), S),
    # ----------------------------------------------------------------- losses and fused ops
    OpInfo("nn.functional.mse_loss", "nn.functional.mse_loss", "",
           ("∂/∂x = 2(x − t)/N", "∂/∂t = −2(x − t)/N"), O, op="mse_loss"),
    OpInfo("nn.functional.cross_entropy", "nn.functional.cross_entropy", "",
           ("∂/∂z = softmax(z) − onehot(t)",), O, op="cross_entropy"),
    OpInfo("nn.functional.binary_cross_entropy_with_logits",
           "nn.functional.binary_cross_entropy_with_logits", "",
           ("∂/∂z = σ(z) − t", "∂/∂t = −z"), O, op="binary_cross_entropy_with_logits"),
    OpInfo("nn.functional.batch_norm", "nn.functional.batch_norm", "",
           ("g ↦ γr(g − Σg/M − x̂·Σ(g·x̂)/M)", "g ↦ Σ g·x̂", "g ↦ Σ g"), O, op="batch_norm"),
]

ROWS = {row.name: row for row in _TABLE}
"""The table, by chainrule name."""


def rule_texts():
    """``{graph op name: rule lines}`` for ``explain()`` (the first row wins a shared op name).

    >>> rule_texts()["exp"]
    ('∂eˣ/∂x = eˣ',)
    """
    rules = {}
    for row in _TABLE:
        rules.setdefault(row.graph_op, row.rule)
    return rules


def resolve(root, path):
    """The attribute at dotted ``path`` under ``root`` (``resolve(cr, "nn.functional.silu")``).

    >>> import chainrule as cr
    >>> resolve(cr, "sin") is cr.sin
    True
    """
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def markdown():
    """The docs' operator table (``docs/operators.md``), generated from the rows.

    >>> markdown().splitlines()[0]
    '# Operator table'
    """
    lines = [
        "# Operator table",
        "",
        "Generated from `src/chainrule/ops/registry.py` by "
        "`python -m chainrule.ops.registry > docs/operators.md`; do not edit by hand.",
        "Each row is also an oracle test (`tests/test_op_table.py`) and the rule text "
        "`cr.explain()` prints.",
        "",
        "| chainrule | PyTorch | NumPy | backward rule (one line per input) |",
        "|---|---|---|---|",
    ]
    for row in _TABLE:
        torch_name = f"`torch.{row.torch}`" if row.torch else "—"
        numpy_name = f"`numpy.{row.numpy}`" if row.numpy else "—"
        rule = "; ".join(row.rule).replace("|", "\\|")
        lines.append(f"| `cr.{row.name}` | {torch_name} | {numpy_name} | {rule} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(markdown())
