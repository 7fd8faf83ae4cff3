"""cr.save / cr.load / save_model / checkpoints: safetensors + JSON, atomic writes, no pickle."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.io as crio
from chainrule.backend import get_rng, manual_seed
from chainrule.io import CheckpointError

st = pytest.importorskip("safetensors.numpy")

WRITER = Path(__file__).with_name("_io_writer.py")


def assert_same(a, b):
    """Deep equality that also checks types, dtypes and shapes (tuples stay tuples, ...)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(x for x in b if x == k))
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b
        if isinstance(a, float):
            assert np.copysign(1.0, a) == np.copysign(1.0, b)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "obj.safetensors"


# ------------------------------------------------------------------------------ round trips
def test_nested_round_trip_keeps_int_keys_tuples_and_dtypes(path):
    rng = np.random.default_rng(0)
    obj = {
        "model": {"0.weight": rng.standard_normal((3, 2)), "0.bias": np.zeros(3, np.float32)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": rng.standard_normal(4).astype(np.float32)},
                      1: {"step": 3, "exp_avg": np.arange(2.0)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                              "amsgrad": False, "params": [0, 1]}],
        },
        "mask": np.array([True, False, True]),
        "labels": np.array([3, 1, 4], dtype=np.int64),
        "small": np.array([1, 2], dtype=np.int32),
        "half": np.array([0.5], dtype=np.float16),
        "epoch": 7, "name": "run-α", "none": None, "flag": True,
        "empty_list": [], "empty_dict": {}, "empty_tuple": (),
        "mixed_keys": {1: "one", "1": "string one", 2.5: "float", None: "none", False: "bool"},
        "nested": [(1, [2, (3, {"deep": np.float64(2.5)})])],
    }
    cr.save(obj, path)
    assert_same(cr.load(path), obj)


def test_zero_d_empty_and_noncontiguous_arrays(path):
    base = np.arange(12.0).reshape(3, 4)
    obj = {
        "scalar": np.array(2.5),
        "int_scalar": np.array(7, dtype=np.int64),
        "bool_scalar": np.array(True),
        "empty": np.zeros((0, 3), np.float32),
        "empty_int": np.array([], dtype=np.int64),
        "transposed": base.T,
        "strided": base[::2, 1::2],
        "big_endian": np.array([1.5, -2.0], dtype=">f8"),
    }
    cr.save(obj, path)
    back = cr.load(path)
    for k, v in obj.items():
        assert back[k].shape == v.shape, k
        assert back[k].dtype == v.dtype.newbyteorder("="), k
        np.testing.assert_array_equal(back[k], v)
    assert back["scalar"].ndim == 0 and back["transposed"].flags.c_contiguous
    back["transposed"][0, 0] = 99.0  # loaded arrays are ordinary writeable arrays


def test_tensors_are_saved_as_arrays(path):
    w = cr.tensor([[1.0, 2.0]], requires_grad=True)
    cr.save({"w": w, "i": cr.tensor([1, 2]), "root": [w.detach()]}, path)
    back = cr.load(path)
    assert isinstance(back["w"], np.ndarray) and back["w"].dtype == np.float32
    np.testing.assert_array_equal(back["w"], w.data)
    assert back["i"].dtype == np.int64
    np.testing.assert_array_equal(back["root"][0], w.data)


def test_top_level_array_and_scalars_round_trip(path):
    cr.save(np.arange(5), path)
    np.testing.assert_array_equal(cr.load(path), np.arange(5))
    cr.save(cr.tensor(3.0), path)
    assert cr.load(path).shape == () and cr.load(path) == 3.0
    cr.save("just a string", path)
    assert cr.load(path) == "just a string"


def test_numbers_survive_json_exactly(path):
    values = [2**200, -(2**127) + 1, 0.1, 1 / 3, -0.0, float("inf"), float("-inf"), float("nan"),
              np.float32(0.1), np.int64(-(2**63)), np.uint64(2**64 - 1), np.bool_(False)]
    cr.save(values, path)
    assert_same(cr.load(path), values)


def test_keys_that_look_like_placeholders_stay_plain_data(path):
    obj = {"__array__": "not an array", "a": {"__tuple__": [1, 2]}, "b": {"__dict__": 5},
           "c": [{"__scalar__": "x"}], "d": {"__array__": 1, "other": 2}}
    cr.save(obj, path)
    assert_same(cr.load(path), obj)


def test_keys_with_slashes_do_not_collide(path):
    obj = {"a/b": np.ones(2), "a": {"b": np.zeros(2)}}
    cr.save(obj, path)
    back = cr.load(path)
    np.testing.assert_array_equal(back["a/b"], np.ones(2))
    np.testing.assert_array_equal(back["a"]["b"], np.zeros(2))


def test_array_names_follow_their_path(path):
    cr.save({"model": {"0.weight": np.ones((2, 2))}, "opt": {"state": {0: {"m": np.ones(1)}}}},
            path)
    assert set(st.load_file(str(path))) == {"model/0.weight", "opt/state/0/m"}


def test_the_same_array_twice_is_stored_once(path):
    w = np.arange(4.0)
    cr.save({"encoder": w, "decoder": w}, path)
    assert len(st.load_file(str(path))) == 1
    back = cr.load(path)
    assert back["encoder"] is back["decoder"]  # tied weights stay tied


def test_file_holds_no_pickle_and_a_json_format_marker(path):
    cr.save({"x": np.ones(2), "t": (1, 2)}, path)
    data = path.read_bytes()
    assert b"\x80\x04" not in data[:2]
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    meta = header["__metadata__"]
    assert meta["format"] == "chainrule"
    doc = json.loads(meta["chainrule"])
    assert doc["format"] == "chainrule" and doc["version"] == 1
    assert doc["tree"]["x"] == {"__array__": "x"}


def test_unsupported_values_are_rejected_naming_their_path(path):
    with pytest.raises(TypeError, match=r"set at 'a/0'"):
        cr.save({"a": [{1, 2}]}, path)
    with pytest.raises(TypeError, match=r"'z'.*complex128"):
        cr.save({"z": np.array([1j])}, path)
    with pytest.raises(TypeError, match="object"):
        cr.save({"o": np.array([None, 1], dtype=object)}, path)
    with pytest.raises(TypeError, match="dict keys"):
        cr.save({(1, 2): 3}, path)

    class Stateful:
        def state_dict(self):
            return {}

    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        cr.save(Stateful(), path)
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        cr.save(cyclic, path)
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_missing_safetensors_names_the_extra(path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[train\]'"):
        cr.save({"x": 1}, path)


# ----------------------------------------------------------------------------- atomic writes
def test_a_failing_write_leaves_the_previous_file_and_no_temp_file(path, monkeypatch):
    cr.save({"version": "old", "w": np.ones(3)}, path)
    before = path.read_bytes()

    def broken_write(file, data):
        file.write(memoryview(data)[:10])
        raise OSError("disk full")

    monkeypatch.setattr(crio, "_write_all", broken_write)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"version": "new", "w": np.zeros(3)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_save_keeps_the_previous_files_permissions(path):
    cr.save({"a": 1}, path)
    os.chmod(path, 0o600)
    cr.save({"a": 2}, path)
    assert path.stat().st_mode & 0o777 == 0o600 and cr.load(path) == {"a": 2}


def test_save_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        cr.save({"a": 1}, tmp_path / "no-such-folder" / "x.safetensors")


def _start_writer(mode, path):
    return subprocess.Popen([sys.executable, str(WRITER), mode, str(path)],
                            stdout=subprocess.PIPE, text=True)


def _writer_content(generation):
    """The object generation ``generation`` of tests/_io_writer.py saves."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_io_writer", WRITER)
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    return writer.content(generation)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_in_the_middle_of_a_write_leaves_the_previous_file(path):
    cr.save(_writer_content(1), path)
    first = path.read_bytes()
    proc = _start_writer("pause", path)  # writes generation 2, stops half-way
    try:
        assert proc.stdout.readline().strip() == "PAUSED"
        temps = [p for p in path.parent.iterdir() if p.name != path.name]
        assert len(temps) == 1 and 0 < temps[0].stat().st_size < len(first)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == first  # the target was never touched
    assert_same(cr.load(path), _writer_content(1))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_at_random_moments_of_a_save_loop_always_leaves_a_whole_file(path):
    rng = np.random.default_rng(0)
    for _ in range(5):  # about 40% of these kills land between creating the temp file and replace
        proc = _start_writer("loop", path)
        try:
            last = int(proc.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.05))
            os.kill(proc.pid, signal.SIGKILL)
            rest = proc.stdout.read().split()
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        last = int(rest[-1]) if rest else last
        loaded = cr.load(path)
        assert loaded["generation"] in (last, last + 1)
        assert_same(loaded, _writer_content(loaded["generation"]))


# ----------------------------------------------------------------------- bad and foreign files
def test_missing_file_raises_file_not_found_naming_it(tmp_path):
    target = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        cr.load(target)


def _saved(path):
    cr.save({"w": np.arange(6.0).reshape(2, 3), "epoch": 3, "betas": (0.9, 0.99)}, path)
    return bytearray(path.read_bytes())


@pytest.mark.parametrize("mask", [0x01, 0x20, 0xFF])
def test_every_flipped_header_byte_is_rejected(path, mask):
    data = _saved(path)
    header_end = 8 + int.from_bytes(data[:8], "little")
    for i in range(header_end):
        bad = data.copy()
        bad[i] ^= mask
        path.write_bytes(bad)
        with pytest.raises(CheckpointError, match=str(path).replace("\\", "\\\\")):
            cr.load(path)


def test_flipped_data_bytes_fail_the_checksum(path):
    data = _saved(path)
    data[-5] ^= 0x10
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match="checksum"):
        cr.load(path)


def test_truncated_files_are_rejected(path):
    data = _saved(path)
    header_end = 8 + int.from_bytes(data[:8], "little")
    for cut in [0, 3, 8, 20, header_end - 1, header_end, header_end + 7, len(data) - 1]:
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"truncated|header|bytes") as info:
            cr.load(path)
        assert str(path) in str(info.value)


def test_pickle_renamed_to_safetensors_is_rejected_without_running_it(path):
    path.write_bytes(pickle.dumps({"w": np.ones(3)}))
    with pytest.raises(CheckpointError, match="pickle") as info:
        cr.load(path)
    assert str(path) in str(info.value)


def test_json_file_is_rejected_as_json(path):
    path.write_text(json.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(CheckpointError, match="JSON"):
        cr.load(path)


def test_torch_save_zip_is_rejected(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(CheckpointError, match="zip"):
        cr.load(path)


@pytest.mark.parametrize("content", [
    b"",
    np.random.default_rng(0).bytes(1000),
    json.dumps({"w": [1, 2, 3]}).encode(),
    b"\x10\x00\x00\x00\x00\x00\x00\x00[1, 2, 3]       ",
    b'\x08\x00\x00\x00\x00\x00\x00\x00{"w": 5}',
])
def test_random_json_and_odd_files_are_rejected(path, content):
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a valid"):
        cr.load(path)


def test_a_file_from_a_newer_format_version_is_refused(path):
    doc = json.dumps({"format": "chainrule", "version": 99, "tree": 1})
    meta = {"format": "chainrule", "chainrule": doc, "chainrule.crc32": crio._checksum(doc, {})}
    st.save_file({}, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="version 99"):
        cr.load(path)


def test_plain_safetensors_file_loads_as_a_flat_dict(path):
    weights = {"fc.weight": np.ones((2, 3), np.float32), "fc.bias": np.zeros(2, np.float32)}
    st.save_file(weights, str(path), metadata={"format": "pt"})
    back = cr.load(path)
    assert set(back) == set(weights)
    for k in weights:
        assert_same(back[k], weights[k])
    st.save_file(weights, str(path))  # no metadata at all
    assert set(cr.load(path)) == set(weights)


def test_torch_safetensors_weights_load_into_a_chainrule_linear(path):
    torch = pytest.importorskip("torch")
    storch = pytest.importorskip("safetensors.torch")
    layer = _nn("Linear").Linear(3, 2)
    torch.manual_seed(0)
    tlayer = torch.nn.Linear(3, 2).double()
    storch.save_file(tlayer.state_dict(), str(path))
    layer.load_state_dict(cr.load(path))
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(layer(cr.tensor(x)).data,
                               tlayer(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------ whole models
def _nn(*names):
    """cr.nn, or a skip while the layers this test needs are still being written."""
    nn = pytest.importorskip("chainrule.nn")
    missing = [n for n in names if not hasattr(nn, n)]
    if missing:
        pytest.skip(f"chainrule.nn has no {', '.join(missing)} yet")
    return nn


def _serialize():
    return pytest.importorskip("chainrule.nn.serialize",
                               reason="chainrule/nn/serialize.py is not written yet")


def test_save_model_and_load_model_rebuild_a_sequential(path):
    _serialize()
    nn = _nn("Sequential", "Linear", "Tanh")
    manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    cr.save_model(net, path, metadata={"accuracy": 0.97, "classes": ("a", "b", "c")})
    back = cr.load_model(path)
    assert type(back) is type(net) and len(back) == len(net)
    x = cr.tensor(np.random.default_rng(1).standard_normal((5, 4)))
    np.testing.assert_array_equal(back(x).data, net(x).data)
    assert cr.load(path)["metadata"] == {"accuracy": 0.97, "classes": ("a", "b", "c")}
    assert back.training


def test_load_model_keeps_eval_mode(path):
    _serialize()
    nn = _nn("Sequential", "Linear", "ReLU")
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    net.eval()
    cr.save_model(net, path)
    assert not cr.load_model(path).training


def test_save_model_with_a_custom_module_suggests_saving_the_state_dict(path):
    _serialize()
    nn = _nn("Sequential", "Linear", "Module")

    class MyBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x) * 2

    with pytest.raises(TypeError, match=r"cr\.save\(model\.state_dict\(\), path\)"):
        cr.save_model(nn.Sequential(nn.Linear(2, 2), MyBlock()), path)
    assert not path.exists()


def test_batchnorm_buffers_and_float64_survive_save_model(path):
    _serialize()
    nn = _nn("Sequential", "Linear", "BatchNorm1d")
    manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    x = cr.tensor(np.random.default_rng(0).standard_normal((6, 3)))
    net(x)  # train mode: updates running statistics
    net.eval()
    cr.save_model(net, path)
    back = cr.load_model(path)
    assert back[0].weight.dtype == np.float64
    np.testing.assert_array_equal(back[1].running_mean, net[1].running_mean)
    np.testing.assert_array_equal(back(x).data, net(x).data)


def test_custom_module_with_get_config_needs_a_registry(path):
    _serialize()
    nn = _nn("Sequential", "Linear", "Module")

    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def get_config(self):
            return {"factor": self.factor}

        def forward(self, x):
            return x * self.factor

    net = nn.Sequential(nn.Linear(2, 2), Scale(3.0))
    cr.save_model(net, path)
    with pytest.raises(ValueError, match="registry"):
        cr.load_model(path)
    back = cr.load_model(path, registry={"Scale": Scale})
    x = cr.tensor(np.ones((1, 2), np.float32))
    np.testing.assert_array_equal(back(x).data, net(x).data)


def test_load_model_on_a_plain_state_dict_says_what_to_do(path):
    cr.save({"0.weight": np.ones((2, 2))}, path)
    with pytest.raises(CheckpointError, match="save_model"):
        cr.load_model(path)


# -------------------------------------------------------------------------------- checkpoints
class _Recorder:
    """Stands in for a model/optimizer/scheduler: records what load_state_dict receives."""

    def __init__(self, state):
        self.state, self.loaded = state, None

    def state_dict(self):
        return self.state

    def load_state_dict(self, state):
        self.loaded = state


def test_checkpoint_round_trip_restores_states_and_rng(path):
    rng = np.random.default_rng(0)
    model = _Recorder({"0.weight": rng.standard_normal((2, 3)), "0.bias": np.zeros(2)})
    optim = _Recorder({
        "state": {0: {"step": 4, "exp_avg": rng.standard_normal((2, 3)),
                      "exp_avg_sq": rng.random((2, 3))},
                  1: {"step": 4, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                          "amsgrad": False, "params": [0, 1]}],
    })
    sched = _Recorder({"last_epoch": 4, "base_lrs": [0.1], "_last_lr": [0.01]})
    manual_seed(123)
    get_rng().random(17)  # advance: the state is no longer the seed's
    crio.save_checkpoint(path, model=model, optimizer=optim, scheduler=sched, epoch=4,
                         extra={"best_loss": 0.25, "history": [1.0, 0.5]})
    expected = get_rng().random(5)

    manual_seed(999)  # disturb the generator, then restore
    fresh = [_Recorder(None) for _ in range(3)]
    ckpt = crio.load_checkpoint(path, model=fresh[0], optimizer=fresh[1], scheduler=fresh[2])
    np.testing.assert_array_equal(get_rng().random(5), expected)
    assert_same(dict(fresh[0].loaded), model.state)
    assert_same(fresh[1].loaded, optim.state)  # int keys and the betas tuple come back as such
    assert_same(fresh[2].loaded, sched.state)
    assert ckpt["epoch"] == 4 and ckpt["extra"] == {"best_loss": 0.25, "history": [1.0, 0.5]}


def test_rng_state_with_128_bit_ints_survives_exactly(path):
    manual_seed(2**64 + 12345)
    state = get_rng().bit_generator.state
    assert state["state"]["state"] > 2**64
    crio.save_checkpoint(path, model=None, epoch=0)
    manual_seed(0)
    crio.load_checkpoint(path)
    assert get_rng().bit_generator.state == state


def test_load_checkpoint_refuses_missing_parts_and_other_files(path):
    crio.save_checkpoint(path, model=_Recorder({"w": np.ones(1)}))
    with pytest.raises(CheckpointError, match="no optimizer state"):
        crio.load_checkpoint(path, optimizer=_Recorder(None))
    cr.save({"w": np.ones(1)}, path)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        crio.load_checkpoint(path)


def test_real_model_and_adam_resume_exactly(path):
    nn = _nn("Sequential", "Linear", "Tanh")
    optim = pytest.importorskip("chainrule.optim", reason="chainrule.optim is not written yet")
    if not hasattr(optim, "Adam"):
        pytest.skip("chainrule.optim.Adam is not written yet")

    def make():
        manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
        return net, optim.Adam(net.parameters(), lr=0.05, betas=(0.8, 0.9))

    x = cr.tensor(np.random.default_rng(0).standard_normal((8, 3)))
    y = cr.tensor(np.random.default_rng(1).standard_normal((8, 1)))

    def step(net, opt):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    net, opt = make()
    for _ in range(3):
        step(net, opt)
    crio.save_checkpoint(path, model=net, optimizer=opt, epoch=3)
    straight = [step(net, opt) for _ in range(3)]

    net2, opt2 = make()
    ckpt = crio.load_checkpoint(path, model=net2, optimizer=opt2)
    assert ckpt["epoch"] == 3
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    resumed = [step(net2, opt2) for _ in range(3)]
    assert resumed == straight
