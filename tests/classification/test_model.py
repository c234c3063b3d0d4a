from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save_file
from torch import nn

from benchmark.classification import model as model_module
from benchmark.classification.model import (
    IMAGENET_FILE,
    CheckpointError,
    WeightsUnavailableError,
    build_model,
    count_parameters,
    keep_frozen_backbone_in_eval,
    load_checkpoint,
    save_checkpoint,
    set_backbone_trainable,
)

BACKBONE_PARAMS = 4_007_548  # torchvision efficientnet_b0 without its classifier
HEAD_PARAMS = 1280 * 512 + 512 + 512 * 2 + 2


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty torch hub cache and a download that fails as it does without a network."""

    def no_network(url: str, **kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(model_module, "load_state_dict_from_url", no_network)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def torchvision_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """A torchvision efficientnet_b0 state dict (1000-class head), random but seeded."""
    torch.manual_seed(seed)
    return torchvision.models.efficientnet_b0(weights=None).state_dict()


def test_head_is_the_papers(offline: Path) -> None:
    model = build_model("none")
    head = model.classifier
    assert [type(m) for m in head] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert (head[0].in_features, head[0].out_features) == (1280, 512)
    assert head[2].p == pytest.approx(0.3)
    assert (head[3].in_features, head[3].out_features) == (512, 2)
    model.eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 2)


def test_head_options() -> None:
    head = build_model("none", dropout=0.5, hidden=64, num_classes=3).classifier
    assert (head[0].out_features, head[2].p, head[3].out_features) == (64, 0.5, 3)


def test_imagenet_offline_raises_with_help(offline: Path) -> None:
    with pytest.raises(WeightsUnavailableError) as info:
        build_model("imagenet")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "could not be downloaded" in message
    assert IMAGENET_FILE == "efficientnet_b0_rwightman-7f5810bc.pth"
    assert IMAGENET_FILE in message
    assert str(offline) in message  # where to put it
    assert "'none'" in message


def test_imagenet_from_the_hub_cache_works_offline(offline: Path) -> None:
    state = torchvision_state()
    offline.mkdir(parents=True)
    torch.save(state, offline / IMAGENET_FILE)
    model = build_model("imagenet")
    loaded = model.state_dict()
    assert torch.equal(loaded["features.0.0.weight"], state["features.0.0.weight"])
    assert torch.equal(loaded["features.8.1.running_var"], state["features.8.1.running_var"])
    assert loaded["classifier.3.weight"].shape == (2, 512)  # ImageNet's head ignored


def test_imagenet_download_loads_weights_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state, calls = torchvision_state(), []

    def download(url: str, **kwargs: object) -> dict[str, torch.Tensor]:
        calls.append((url, kwargs))
        return state

    monkeypatch.setattr(model_module, "load_state_dict_from_url", download)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = build_model("imagenet")
    assert torch.equal(model.state_dict()["features.0.0.weight"], state["features.0.0.weight"])
    [(url, kwargs)] = calls
    assert url.endswith(IMAGENET_FILE)
    assert kwargs["weights_only"] is True
    assert kwargs["check_hash"] is True


def test_local_safetensors_backbone(tmp_path: Path) -> None:
    state = torchvision_state()
    save_file(state, str(tmp_path / "backbone.safetensors"))
    model = build_model(str(tmp_path / "backbone.safetensors"))
    loaded = model.state_dict()
    for key in ("features.0.0.weight", "features.4.0.block.1.0.weight", "features.8.1.bias"):
        assert torch.equal(loaded[key], state[key])
    assert model.classifier[0].in_features == 1280


def test_local_pth_loads_with_weights_only(tmp_path: Path) -> None:
    state = torchvision_state()
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "backbone.pth")
    model = build_model(str(tmp_path / "backbone.pth"))
    assert torch.equal(
        model.state_dict()["features.1.0.block.0.0.weight"], state["features.1.0.block.0.0.weight"]
    )


class Payload:
    """Not a tensor: weights_only refuses to unpickle it."""


def test_pth_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": torchvision_state(), "extra": Payload()}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pth") as info:
        build_model(str(path))
    assert "weights_only" in str(info.value)


def test_bad_weights_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="imagnet"):
        build_model("imagnet")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=r"junk\.safetensors"):
        build_model(str(tmp_path / "junk.safetensors"))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(CheckpointError, match=r"weights.bin must end in"):
        build_model(str(tmp_path / "weights.bin"))
    torch.manual_seed(0)
    save_file(torchvision.models.mobilenet_v2().state_dict(), str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match=r"other.safetensors do not fit efficientnet_b0"):
        build_model(str(tmp_path / "other.safetensors"))


def test_freezing_leaves_only_the_head_trainable() -> None:
    model = build_model("none")
    set_backbone_trainable(model, False)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable
    assert all(name.startswith("classifier.") for name in trainable)
    assert count_parameters(model).trainable == HEAD_PARAMS
    set_backbone_trainable(model, True)
    assert all(p.requires_grad for p in model.parameters())
    assert count_parameters(model).trainable == count_parameters(model).total


def test_frozen_backbone_keeps_its_batchnorm_statistics() -> None:
    torch.manual_seed(0)
    model = build_model("none")
    bn = model.features[0][1]
    before = bn.running_mean.clone()
    set_backbone_trainable(model, False)
    model.train()
    assert keep_frozen_backbone_in_eval(model)
    assert not model.features.training
    assert not bn.training
    assert model.classifier.training  # dropout stays on
    model(torch.randn(4, 3, 64, 64))
    assert torch.equal(bn.running_mean, before)

    set_backbone_trainable(model, True)
    model.train()
    assert not keep_frozen_backbone_in_eval(model)
    assert bn.training
    model(torch.randn(4, 3, 64, 64))
    assert not torch.equal(bn.running_mean, before)


def test_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("none", dropout=0.4, hidden=128)
    model.train()
    with torch.no_grad():  # non-trivial BatchNorm running statistics
        model(torch.randn(4, 3, 64, 64))
    model.eval()
    path = tmp_path / "ckpt" / "model.safetensors"
    save_checkpoint(model.to(memory_format=torch.channels_last), path)
    loaded = load_checkpoint(path).eval()
    # The writer orders metadata by a per-process random hash; the saved header is sorted,
    # so two runs give the same bytes (and the same dvc.lock hash).
    raw = path.read_bytes()
    header = raw[8 : 8 + int.from_bytes(raw[:8], "little")].decode()
    assert header.index('"architecture"') < header.index('"dropout"')
    assert header.index('"__metadata__"') < header.index('"classifier.')
    assert loaded.classifier[0].out_features == 128
    assert loaded.classifier[2].p == pytest.approx(0.4)
    saved, back = model.state_dict(), loaded.state_dict()
    assert saved.keys() == back.keys()
    assert all(torch.equal(saved[k], back[k]) for k in saved)  # every tensor bit for bit
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        # Outputs: channels-last against contiguous kernels may differ in the last bits.
        assert torch.allclose(loaded(x), model(x), rtol=0, atol=1e-6)
    # A checkpoint of this model passed as weights loads the head too.
    again = build_model(str(path), dropout=0.4, hidden=128).eval()
    with torch.no_grad():
        # Same weights; the kernels may differ in the last bits (layout, thread split).
        assert torch.allclose(again(x), model(x), rtol=0, atol=1e-6)
    assert all(torch.equal(again.state_dict()[k], saved[k]) for k in saved)


def test_load_checkpoint_rejects_a_plain_backbone(tmp_path: Path) -> None:
    save_file(torchvision_state(), str(tmp_path / "backbone.safetensors"))
    with pytest.raises(CheckpointError, match=r"backbone.safetensors is not a model"):
        load_checkpoint(tmp_path / "backbone.safetensors")
    with pytest.raises(CheckpointError, match=r"missing.safetensors does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_parameter_counts() -> None:
    counts = count_parameters(build_model("none"))
    assert HEAD_PARAMS == 656_898
    assert counts.total == BACKBONE_PARAMS + HEAD_PARAMS == 4_664_446
    assert counts.trainable == counts.total


def test_phantom_cnn_is_small_round_trips_and_refuses_imagenet(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("none", architecture="phantom_cnn")
    widths = model_module.PHANTOM_WIDTHS
    convs = sum(9 * i * o + 2 * o for i, o in zip((3, *widths[:-1]), widths, strict=True))
    head = widths[-1] * widths[-1] + widths[-1] + widths[-1] * 2 + 2
    assert count_parameters(model).total == convs + head  # bias-free convs, BN affine
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 2)
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 64, 64))
    path = tmp_path / "cnn.safetensors"
    save_checkpoint(model.eval(), path)
    loaded = load_checkpoint(path).eval()
    assert model_module.architecture_of(loaded) == "phantom_cnn"
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    # A file without metadata is recognised by its layer names.
    torch.save(model.state_dict(), tmp_path / "cnn.pth")
    assert model_module.architecture_of(load_checkpoint(tmp_path / "cnn.pth")) == "phantom_cnn"
    with pytest.raises(ValueError, match="ImageNet weights exist for efficientnet_b0 only"):
        build_model("imagenet", architecture="phantom_cnn")
    save_file(torchvision_state(), str(tmp_path / "backbone.safetensors"))
    with pytest.raises(CheckpointError, match="do not fit phantom_cnn"):
        build_model(str(tmp_path / "backbone.safetensors"), architecture="phantom_cnn")
