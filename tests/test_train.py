"""Seeded training, bit-identical resume, checkpoints, divergence."""

import math

import numpy as np
import pytest
import torch
from conftest import synthetic_images

from layerscope.model import ModelConfig
from layerscope.train import (
    CheckpointError,
    DivergenceError,
    TrainConfig,
    epoch_order,
    evaluate,
    init_model,
    learning_rate,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
    train_epoch,
)

MODEL = ModelConfig(input_dim=784, hidden=(32, 16), mean=0.1, std=0.3)
CFG = TrainConfig(epochs=3, batch_size=50, lr=3e-3, seed=7)


@pytest.fixture(scope="module")
def data():
    images, labels = synthetic_images(400, seed=3)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def train(epochs, data, model=None, optimizer=None, start=1):
    model = model or init_model(MODEL, CFG.seed)
    optimizer = optimizer or make_optimizer(model, CFG)
    for epoch in range(start, epochs + 1):
        train_epoch(model, optimizer, *data, CFG, epoch)
    return model, optimizer


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_seed_same_weights_other_seed_other_weights(data):
    a, _ = train(2, data)
    b, _ = train(2, data)
    for key, value in weights(a).items():
        assert torch.equal(value, weights(b)[key]), key
    c = init_model(MODEL, seed=8)
    assert not torch.equal(c.hidden[0].weight, init_model(MODEL, CFG.seed).hidden[0].weight)


def test_training_learns_the_synthetic_task(data):
    cfg = TrainConfig(epochs=6, batch_size=25, lr=3e-3, seed=7)
    model = init_model(MODEL, cfg.seed)
    optimizer = make_optimizer(model, cfg)
    before = evaluate(model, *data)
    losses = [train_epoch(model, optimizer, *data, cfg, e)[0] for e in range(1, 7)]
    loss, accuracy = evaluate(model, *data)
    assert before[1] < 0.3 and accuracy > 0.95 and loss < 0.3
    assert losses[-1] < losses[0]


def test_resume_from_checkpoint_is_bit_identical(tmp_path, data):
    straight, _ = train(3, data)
    model, optimizer = train(1, data)
    save_checkpoint(tmp_path / "e1.pt", model, optimizer, CFG, 1, {"seed": 7}, {})
    state = load_checkpoint(tmp_path / "e1.pt")
    resumed = state["model"]
    optimizer = make_optimizer(resumed, CFG)
    optimizer.load_state_dict(state["optimizer_state"])
    train(3, data, resumed, optimizer, start=2)
    for key, value in weights(straight).items():
        assert torch.equal(value, weights(resumed)[key]), key


def test_checkpoint_round_trip_holds_its_config(tmp_path, data):
    model, optimizer = train(1, data)
    save_checkpoint(tmp_path / "c.pt", model, optimizer, CFG, 1, {"dataset": "x"}, {"a": 1.0})
    # The file loads with PyTorch's safe loader, which refuses arbitrary pickled objects.
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    assert raw["model_config"] == MODEL.to_dict()
    assert raw["train_config"] == CFG.to_dict()
    assert raw["run_config"] == {"dataset": "x"} and raw["epoch"] == 1
    state = load_checkpoint(tmp_path / "c.pt")
    assert not state["model"].training
    torch.testing.assert_close(state["model"](data[0][:5]), model.eval()(data[0][:5]))
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file


def test_damaged_and_foreign_checkpoints(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="bad.pt: unreadable checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other.pt: not a LayerScope checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.pt")


def test_divergence_stops_at_the_first_bad_batch(data):
    cfg = TrainConfig(epochs=1, batch_size=50, lr=1e6, optimizer="sgd", seed=0)
    model = init_model(MODEL, 0)
    with pytest.raises(DivergenceError) as err:
        train_epoch(model, make_optimizer(model, cfg), *data, cfg, 1)
    message = str(err.value)
    assert "in epoch 1, batch " in message and "smaller learning rate" in message
    batch = int(message.split("batch ")[1].split()[0])
    # Replaying the same batches confirms that the reported batch is the first non-finite one.
    replay = init_model(MODEL, 0)
    optimizer = make_optimizer(replay, cfg)
    order = epoch_order(len(data[1]), cfg.seed, 1)
    for b in range(batch + 1):
        idx = order[b * 50 : (b + 1) * 50]
        loss = torch.nn.functional.cross_entropy(replay(data[0][idx]), data[1][idx])
        assert math.isfinite(loss.item()) == (b < batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_cosine_schedule_and_epoch_order():
    cfg = TrainConfig(lr=0.1, schedule="cosine")
    assert learning_rate(cfg, 0, 100) == pytest.approx(0.1)
    assert learning_rate(cfg, 50, 100) == pytest.approx(0.05)
    assert learning_rate(TrainConfig(lr=0.1, schedule="constant"), 99, 100) == 0.1
    assert torch.equal(epoch_order(10, 0, 1), epoch_order(10, 0, 1))
    assert not torch.equal(epoch_order(100, 0, 1), epoch_order(100, 0, 2))
    assert sorted(epoch_order(10, 0, 1).tolist()) == list(range(10))
