"""Training-free scores: each checked against a computation by hand (numpy) on a tiny net."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from sknar.proxies import SCORES, ZeroCostScorer, grad_norm, jacob_cov, naswot, synflow
from sknar.proxies._scores import input_jacobian, relu_code_kernel
from sknar.spaces import NASBench101Space, NASBench201Space

TINY_NETWORK = {"C": 4, "N": 1}
ALL_CONV = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
POOL_ONLY = (
    "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|"
    "+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|"
)
# Node 1 feeds nothing: the network of its representative, which drops the pooling.
DEAD_BRANCH = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"


@pytest.fixture(scope="module")
def mlp():
    """Linear(3, 4) - ReLU - Linear(4, 2) with fixed weights, some negative."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    return net.double()


@pytest.fixture(scope="module")
def batch():
    # A seed whose five inputs have five different ReLU codes (a non-singular NASWOT
    # kernel) and some active unit each (non-constant Jacobian rows).
    rng = np.random.RandomState(8)
    return torch.from_numpy(rng.standard_normal((5, 3))), torch.tensor([0, 1, 1, 0, 1])


def _weights(mlp):
    W1, b1 = mlp[0].weight.detach().numpy(), mlp[0].bias.detach().numpy()
    W2, b2 = mlp[2].weight.detach().numpy(), mlp[2].bias.detach().numpy()
    return W1, b1, W2, b2


def test_synflow_matches_the_hand_computed_flow_of_absolute_weights(mlp):
    W1, b1, W2, b2 = (np.abs(w) for w in _weights(mlp))
    hidden = W1 @ np.ones(3) + b1  # all positive: every ReLU passes
    # R = sum(W2 relu(W1 1 + b1) + b2): dR/dW2[i, j] = hidden[j]; dR/dW1[j, k] = sum_i W2[i, j]
    expected = np.sum(W2 * hidden[None, :]) + np.sum(W1 * W2.sum(axis=0)[:, None])
    assert synflow(mlp, (3,)) == pytest.approx(expected, rel=1e-12)
    # The caller's network keeps its signs.
    assert (mlp[0].weight < 0).any()


def test_synflow_ignores_batch_norm_and_runs_in_double_precision():
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with_bn = nn.Sequential(plain[0], nn.BatchNorm1d(4), plain[1], plain[2])
    with torch.no_grad():
        with_bn[1].running_mean.fill_(100.0)
        with_bn[1].weight.fill_(7.0)
    assert synflow(with_bn, (3,)) == synflow(plain, (3,))
    deep = nn.Sequential(*[nn.Linear(8, 8, bias=False) for _ in range(60)])
    with torch.no_grad():
        for layer in deep:
            layer.weight.fill_(8.0)  # the flow is 8^60 * 8^60: beyond float32
    assert np.isfinite(synflow(deep, (8,))) and synflow(deep, (8,)) > 1e100


def test_grad_norm_matches_the_hand_computed_cross_entropy_gradient(mlp, batch):
    X, y = batch
    W1, b1, W2, b2 = _weights(mlp)
    x = X.numpy()
    pre = x @ W1.T + b1
    hidden = np.maximum(pre, 0)
    logits = hidden @ W2.T + b2
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    d_logits = (softmax - np.eye(2)[y.numpy()]) / len(x)
    d_W2 = d_logits.T @ hidden
    d_W1 = ((d_logits @ W2) * (pre > 0)).T @ x
    expected = np.linalg.norm(d_W1) + np.linalg.norm(d_W2)
    assert grad_norm(mlp, X, y) == pytest.approx(expected, rel=1e-10)
    assert mlp[0].weight.grad is None


def test_naswot_kernel_counts_agreeing_relu_codes(mlp, batch):
    X, _ = batch
    W1, b1, _, _ = _weights(mlp)
    codes = (X.numpy() @ W1.T + b1 > 0).astype(float)
    expected = codes @ codes.T + (1 - codes) @ (1 - codes).T
    np.testing.assert_allclose(relu_code_kernel(mlp, X), expected)
    sign, logdet = np.linalg.slogdet(expected)
    assert sign > 0
    assert naswot(mlp, X) == pytest.approx(logdet, rel=1e-12)
    # Two inputs with the same codes make the kernel singular.
    assert naswot(mlp, torch.cat([X[:1], X[:1]])) == -np.inf


def test_jacob_cov_matches_the_hand_computed_jacobian_correlations(mlp, batch):
    X, _ = batch
    W1, b1, W2, _ = _weights(mlp)
    masks = (X.numpy() @ W1.T + b1 > 0).astype(float)
    # d sum(outputs) / dx = W1^T diag(mask) W2^T 1
    jacobian = (masks * W2.sum(axis=0)) @ W1
    np.testing.assert_allclose(input_jacobian(mlp, X), jacobian, rtol=1e-10)
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(jacobian)) + 1e-5
    expected = -np.sum(np.log(eigenvalues) + 1 / eigenvalues)
    assert jacob_cov(mlp, X) == pytest.approx(expected, rel=1e-8)


def test_scores_leave_the_network_as_they_found_it():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2)).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    X, y = torch.randn(6, 3), torch.tensor([0, 1, 0, 1, 0, 1])
    for score in (grad_norm(net, X, y), naswot(net, X), jacob_cov(net, X), synflow(net, (3,))):
        assert np.isfinite(score)
    assert not net.training
    for name, value in net.state_dict().items():
        torch.testing.assert_close(value, before[name])
    assert all(p.grad is None for p in net.parameters())


@pytest.fixture(scope="module")
def scorer():
    return ZeroCostScorer(
        NASBench201Space(), batch_size=4, image_size=8, network_params=TINY_NETWORK
    ).fit()


def test_a_network_whose_output_ignores_its_input_has_no_jacob_cov():
    class Constant(nn.Module):  # as a NAS-Bench-201 cell that connects nothing
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.ones(2))

        def forward(self, x):
            return self.bias.expand(x.shape[0], 2)

    net, X = Constant(), torch.randn(4, 3)
    assert np.array_equal(input_jacobian(net, X), np.zeros((4, 3)))
    assert np.isnan(jacob_cov(net, X))


def test_scorer_scores_cells_of_the_space_reproducibly(scorer):
    scores = scorer.compute([ALL_CONV, POOL_ONLY])
    assert list(scores) == list(SCORES)
    assert all(values.shape == (2,) for values in scores.values())
    # Convolutions carry synaptic flow; a pooling-and-skip cell carries only the stem's.
    assert scores["synflow"][0] > scores["synflow"][1]
    fresh = ZeroCostScorer(
        NASBench201Space(), batch_size=4, image_size=8, network_params=TINY_NETWORK
    ).fit()
    # Each network starts from the same seed, whatever the order of the cells.
    reverse = fresh.compute([POOL_ONLY, ALL_CONV])
    for name in SCORES:
        np.testing.assert_array_equal(reverse[name][::-1], scores[name])
    assert scorer.transform([ALL_CONV]).shape == (1, len(SCORES))
    assert list(scorer.get_feature_names_out()) == list(SCORES)


def test_scorer_scores_the_network_a_cell_computes(scorer):
    # A cell with a branch that feeds nothing is scored as its representative.
    space = NASBench201Space()
    representative = space.representatives([DEAD_BRANCH])[0]
    assert scorer.transform([DEAD_BRANCH]).tolist() == scorer.transform([representative]).tolist()
    assert representative != DEAD_BRANCH
    assert space.hash(representative) in scorer.cache_


def test_scorer_uses_the_users_batch():
    rng = np.random.RandomState(1)
    X, y = rng.rand(6, 3, 8, 8), rng.randint(10, size=6)
    common = dict(network_params=TINY_NETWORK, batch_size=4, scores=("grad_norm", "synflow"))
    own = ZeroCostScorer(NASBench201Space(), data=(X, y), **common).fit()
    stand_in = ZeroCostScorer(NASBench201Space(), image_size=8, **common).fit()
    assert tuple(own.batch_X_.shape) == (4, 3, 8, 8)
    ours, theirs = own.transform([ALL_CONV]), stand_in.transform([ALL_CONV])
    assert ours[0, 0] != theirs[0, 0]  # grad_norm sees the batch
    assert ours[0, 1] == theirs[0, 1]  # synflow is data-free


def test_scorer_cache_file_is_read_back_and_must_match(tmp_path, monkeypatch):
    path = tmp_path / "scores.json"
    params = dict(batch_size=4, image_size=8, network_params=TINY_NETWORK, cache=path,
                  scores=("synflow", "naswot"))
    first = ZeroCostScorer(NASBench201Space(), **params).fit()
    values = first.transform([ALL_CONV, POOL_ONLY])
    stored = json.loads(path.read_text())
    assert len(stored["scores"]) == 2
    second = ZeroCostScorer(NASBench201Space(), **params).fit()

    def no_training(*args, **kwargs):
        raise AssertionError("a cached network was scored again")

    monkeypatch.setattr(second, "_score_network", no_training)
    np.testing.assert_array_equal(second.transform([ALL_CONV, POOL_ONLY]), values)
    with pytest.raises(ValueError, match="other settings"):
        ZeroCostScorer(NASBench201Space(), **dict(params, random_state=1)).fit()


def test_scorer_builds_nasbench101_cells():
    space = NASBench101Space()
    cell = space.sample(1, random_state=0)[0]
    scorer = ZeroCostScorer(space, batch_size=3, image_size=8,
                            network_params={"C": 4, "N": 1}).fit()
    assert np.all(np.isfinite(scorer.transform([cell])[:, [0, 1]]))


def test_scorer_refuses_bad_settings():
    with pytest.raises(ValueError, match="scores must name"):
        ZeroCostScorer(NASBench201Space(), scores=("flops",)).fit()
    with pytest.raises(ValueError, match=r"images X of shape \(n, channels"):
        ZeroCostScorer(NASBench201Space(), data=(np.zeros((4, 8)), np.zeros(4))).fit()
    from sknar.spaces import NASBenchGraphSpace

    with pytest.raises(ValueError, match="cannot build"):
        ZeroCostScorer(NASBenchGraphSpace()).fit()
