"""Issue 10, class 6: arguments are validated once, with messages that name them."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main


@pytest.mark.parametrize("data, words", [
    ("abc", "cannot make a tensor from str 'abc'"),
    (b"ab", "cannot make a tensor from bytes"),
    (None, "cannot make a tensor from NoneType"),
    ([1.0, None], r"could not infer a numeric dtype from \[1.0, None\]"),
    (["1", "2"], "could not infer a numeric dtype"),
])
def test_tensors_refuse_strings_and_none(data, words):
    with pytest.raises(TypeError, match=words):
        cr.tensor(data)


def test_tensors_of_numbers_are_unchanged():
    assert cr.tensor([1, 2]).dtype == np.int64 and cr.tensor(2.5).dtype == np.float32
    assert cr.tensor([True, False]).dtype == np.bool_


@pytest.mark.parametrize("args, words", [
    ((2.5, 3), r"Linear: in_features must be an integer, got 2.5 \(float\)"),
    (("3", 2), r"Linear: in_features must be an integer, got '3' \(str\)"),
    ((3, None), r"Linear: out_features must be an integer, got None"),
    ((True, 2), "Linear: in_features must be an integer, got True"),
])
def test_linear_sizes_must_be_integers(args, words):
    with pytest.raises(TypeError, match=words):
        cr.nn.Linear(*args)
    assert cr.nn.Linear(np.int64(3), 2).weight.shape == (2, 3)


@pytest.mark.parametrize("cls", [cr.optim.SGD, cr.optim.Adam, cr.optim.RMSprop])
def test_a_learning_rate_given_as_text_is_named(cls):
    w = cr.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(TypeError, match=rf"{cls.__name__}: lr must be a number, got '0.1'"):
        cls([w], lr="0.1")


def test_negative_max_norm_is_refused():
    w = cr.nn.Parameter(cr.zeros(2))
    w.grad = cr.tensor([3.0, 4.0])
    with pytest.raises(ValueError, match="clip_grad_norm_: max_norm must be a number >= 0, "
                                         "got -1.0"):
        cr.nn.utils.clip_grad_norm_([w], -1.0)
    assert w.grad.tolist() == [3.0, 4.0]  # untouched (a negative factor would flip it)


@pytest.mark.parametrize("seed, error, words", [
    (-1, ValueError, "manual_seed: seed must be a non-negative integer, got -1"),
    (1.5, TypeError, r"manual_seed: seed must be an integer, got 1.5 \(float\)"),
    ("3", TypeError, "manual_seed: seed must be an integer, got '3'"),
    (True, TypeError, "manual_seed: seed must be an integer, got True"),
])
def test_manual_seed_refuses_what_is_not_a_seed(seed, error, words):
    with pytest.raises(error, match=words):
        cr.manual_seed(seed)
    cr.manual_seed(np.int64(7))
    a = cr.backend.get_rng().random()
    cr.manual_seed(7)
    assert cr.backend.get_rng().random() == a


@pytest.mark.parametrize("saved, loader, words", [
    (cr.optim.SGD, cr.optim.Adam, r"Adam.load_state_dict: the saved state is from another "
                                  r"optimiser \(SGD, by its hyper-parameters \['dampening', "
                                  r"'momentum', 'nesterov'\]\), not Adam"),
    (cr.optim.Adam, cr.optim.SGD, r"SGD.load_state_dict: .*\(Adam, .*'betas'.*not SGD"),
    (cr.optim.Adam, cr.optim.Adagrad, r"Adagrad.load_state_dict: .*\(Adam, "),
])
def test_optimiser_state_loaded_into_another_optimiser_class_is_refused(saved, loader, words):
    w = cr.tensor(np.ones(3), requires_grad=True)
    source = saved([w], lr=0.1, **({"momentum": 0.9} if saved is cr.optim.SGD else {}))
    (w * w).sum().backward()
    source.step()
    target = loader([w], lr=0.01)
    before = repr(target.state_dict())
    with pytest.raises(ValueError, match=words):
        target.load_state_dict(source.state_dict())
    assert repr(target.state_dict()) == before  # nothing half-loaded


def test_optimiser_state_of_the_same_class_and_pytorchs_still_load():
    torch = pytest.importorskip("torch")
    w = cr.tensor(np.ones(3), requires_grad=True)
    cr.optim.Adam([w]).load_state_dict(cr.optim.Adam([w], lr=0.5).state_dict())
    tw = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    topt = torch.optim.Adam([tw], lr=0.5)
    (tw * tw).sum().backward()
    topt.step()
    state = topt.state_dict()
    state["state"] = {k: {n: (v.numpy() if hasattr(v, "numpy") else v) for n, v in s.items()}
                      for k, s in state["state"].items()}
    opt = cr.optim.Adam([w])
    opt.load_state_dict(state)  # foreach/capturable/fused: nobody's chainrule keys
    assert opt.param_groups[0]["lr"] == 0.5


def test_the_command_has_a_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"chainrule {cr.__version__}"


def test_a_task_that_contradicts_the_data_set_is_one_line_before_training(tmp_path, capsys):
    assert main(["train", "--data", "iris", "--task", "regression", "--out",
                 str(tmp_path / "r"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("chainrule train: error: --task regression contradicts the data: "
                           "iris is a classification data set")
    assert not (tmp_path / "r").exists()  # refused before any folder was made


def test_cli_warnings_are_one_line_without_a_source_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "iris", "--epochs", "1", "--no-plots", "--out", str(out),
                 "--no-progress"]) == 0
    rows = tmp_path / "rows.csv"  # no header: the columns are used by position, with a word
    rows.write_text("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    capsys.readouterr()
    assert main(["predict", str(out / "model.safetensors"), str(rows)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule: warning: ")
    assert "no header" in err[0] and "by position" in err[0]
