import pytest

from discotok.config import RunConfig, load_config, parse_overrides
from discotok.errors import ConfigError
from discotok.pipeline import as_config, build_method, load_dataset
from discotok.registry import METHODS


def test_defaults_resolve_and_fill_every_option():
    cfg = load_config()
    assert cfg.data["name"] == "mnist1d"
    assert cfg.data["num_samples"] == 10000
    assert cfg.tokenizer["codes"] == 64


def test_overrides_are_yaml_typed_and_nested():
    assert parse_overrides(["train.epochs=5", "method.temperature=0.1", "data.name=digits"]) == {
        "train": {"epochs": 5},
        "method": {"temperature": 0.1},
        "data": {"name": "digits"},
    }


def test_unknown_method_lists_valid_choices():
    cfg = as_config({"method": {"name": "simclrr"}, "data": {"num_samples": 100}})
    with pytest.raises(
        ConfigError,
        match="unknown method 'simclrr'; valid choices: barlow_twins, byol, cmim, dino, "
        "frameproj, gedi, groco, gsimclr, hubert, mae, masked_frames, moco, msm, obow, sie, "
        "simclr, simsiam, swav, transitive, ts2vec, vicreg, wav2vec",
    ):
        build_method(cfg, load_dataset(cfg))


def test_unknown_dataset_and_section_and_option_are_named():
    with pytest.raises(ConfigError, match="unknown dataset 'cifar'.*mnist1d"):
        load_config(overrides=["data.name=cifar"])
    with pytest.raises(ConfigError, match="unknown config section 'trian'"):
        load_config(overrides=["trian.epochs=3"])
    with pytest.raises(ConfigError, match="train has no option 'epoch'.*epochs"):
        load_config(overrides=["train.epoch=3"])
    with pytest.raises(ConfigError, match="has no option 'widht'; valid options: .*width"):
        METHODS  # noqa: B018 - registries are importable
        cfg = as_config({"encoder": {"name": "cnn1d", "widht": 3}, "data": {"num_samples": 100}})
        build_method(cfg, load_dataset(cfg))


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.lr=-1", r"train.lr=-1.0 is out of range; allowed: \(0.0, inf\]"),
        ("train.batch_size=1", r"train.batch_size=1 is out of range; allowed: \[2, inf\]"),
        ("train.optimizer=adam", "train.optimizer='adam' is not valid; choose one of: adamw, sgd"),
        ("train.epochs=three", "train.epochs='three' has the wrong type; expected int"),
        ("train.device=tpu", "train.device='tpu' is not valid"),
        ("tokenizer.codes=0", r"tokenizer.codes=0 is out of range"),
        (
            "data.test_fraction=1.5",
            r"data.test_fraction=1.5 is out of range; allowed: \(0.0, 1.0\)",
        ),
        ("evaluate.evaluators=[linear,probit]", "unknown evaluator 'probit'; valid choices"),
    ],
)
def test_invalid_values_name_the_field_and_allowed_range(override, message):
    with pytest.raises(ConfigError, match=message):
        cfg = load_config(overrides=[override, "data.num_samples=100"])
        build_method(cfg, load_dataset(cfg))


def test_method_option_range_is_checked_at_build():
    cfg = as_config({"method": {"name": "simclr", "temperature": 0}, "data": {"num_samples": 100}})
    with pytest.raises(ConfigError, match=r"method.temperature=0 is out of range"):
        build_method(cfg, load_dataset(cfg))


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(scalar)
    with pytest.raises(ConfigError, match="must look like section.key=value"):
        load_config(overrides=["train.epochs"])


def test_config_file_plus_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train: {epochs: 7, lr: 0.01}\nmethod: gsimclr\n")
    cfg = load_config(path, ["train.epochs=3"])
    assert (cfg.train.epochs, cfg.train.lr, cfg.method["name"]) == (3, 0.01, "gsimclr")


def test_changing_a_component_name_drops_its_old_options():
    cfg = load_config(overrides=["encoder.name=cnn1d", "encoder.kernel_size=3"])
    assert cfg.encoder["kernel_size"] == 3
    cfg2 = RunConfig.from_dict({"encoder": {"name": "mlp"}})
    assert "kernel_size" not in cfg2.encoder
