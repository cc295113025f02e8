"""torch.optim's update rules in gdviz.core.optimizers: hand-computed steps, fixed points,
purity and validation (torch's own trajectories: test_torch_golden.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.core import optimizers
from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import init_state, step, validate_hyperparams

P0 = [1.0, -2.0]
G1 = [0.5, 1.0]
G2 = [1.0, -1.0]


def run(name, hp, grads, lr, p0=P0):
    """Parameters after each step (a list of arrays) and the final state."""
    hp = validate_hyperparams(name, hp)
    params = np.array(p0, dtype=np.float64)
    state = init_state(name, params, hp)
    out = []
    for g in grads:
        params, state = step(name, params, np.array(g, dtype=np.float64), state, lr, hp)
        out.append(params)
    return out, state


def check(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=1e-15)


# -- the catalogue ----------------------------------------------------------------------------

TORCH_DEFAULTS = {
    "sgd": (1e-3, {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}),
    "adagrad": (1e-2, {"lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                       "eps": 1e-10}),
    "rmsprop": (1e-2, {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                       "centered": False}),
    "adam": (1e-3, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}),
    "adamw": (1e-3, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False}),
    "nadam": (2e-3, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                     "momentum_decay": 4e-3, "decoupled_weight_decay": False}),
    "radam": (1e-3, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                     "decoupled_weight_decay": False}),
    "adamax": (2e-3, {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    "adadelta": (1.0, {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}),
    "rprop": (1e-2, {"etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)}),
    "asgd": (1e-2, {"lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0.0}),
    "adafactor": (1e-2, {"beta2_decay": -0.8, "eps": (np.finfo(np.float64).eps, 1e-3), "d": 1.0,
                         "weight_decay": 0.0}),
    "lion": (1e-4, {"betas": (0.9, 0.99), "weight_decay": 0.0}),
    "lbfgs": (1.0, {"max_iter": 20, "max_eval": None, "tolerance_grad": 1e-7,
                    "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": "none"}),
}


def test_names_defaults_and_order_are_torchs():
    assert optimizers.optimizer_names() == [*TORCH_DEFAULTS, "newton"]   # not in torch
    for name, (lr, defaults) in TORCH_DEFAULTS.items():
        spec = optimizers.get_optimizer(name)
        assert spec.default_lr == lr
        assert validate_hyperparams(name, {}) == defaults
        assert [h.name for h in spec.hyperparams] == list(defaults)
        assert spec.description.endswith(".")
        assert all(len(h.help) > 40 for h in spec.hyperparams)


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown optimizer 'nope'; choose from: sgd, adagrad, "
                                          "rmsprop, adam, adamw, nadam, radam, adamax, "
                                          "adadelta, rprop, asgd, adafactor, lion, lbfgs"):
        optimizers.get_optimizer("nope")


# -- validation ------------------------------------------------------------------------------

def test_strings_from_the_command_line_are_parsed():
    hp = validate_hyperparams("sgd", {"momentum": "0.9", "nesterov": "true"})
    assert hp["momentum"] == 0.9
    assert hp["nesterov"] is True
    assert validate_hyperparams("adam", {"betas": "0.8, 0.99"})["betas"] == (0.8, 0.99)
    assert validate_hyperparams("adamw", {"betas": [0.5, 0.5], "amsgrad": "yes"})["amsgrad"]
    assert validate_hyperparams("rmsprop", {"centered": 1, "alpha": "0.5"})["alpha"] == 0.5


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("sgd", {"lr": 0.1}, "set the learning rate with lr"),
    ("sgd", {"momentum": -0.5}, "sgd momentum must be at least 0, got -0.5"),
    ("sgd", {"weight_decay": "-1"}, "sgd weight_decay must be at least 0, got -1"),
    ("sgd", {"dampening": 1.5}, "sgd dampening must be at most 1, got 1.5"),
    ("sgd", {"nesterov": True}, "nesterov momentum requires a momentum > 0 and dampening = 0"),
    ("sgd", {"nesterov": "on", "momentum": 0.9, "dampening": 0.1}, "requires a momentum > 0 and"),
    ("sgd", {"momentum": "fast"}, "sgd momentum must be a number, got 'fast'"),
    ("sgd", {"betas": "0.9,0.99"}, "sgd has no setting 'betas'"),
    ("sgd", {"momentum": "nan"}, "sgd momentum must be a finite number, got nan"),
    ("adagrad", {"lr_decay": -1}, "adagrad lr_decay must be at least 0"),
    ("adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value must be at least"),
    ("adagrad", {"eps": -1e-10}, "adagrad eps must be at least 0"),
    ("rmsprop", {"alpha": -0.1}, "rmsprop alpha must be at least 0"),
    ("rmsprop", {"alpha": 1.5}, "rmsprop alpha must be at most 1"),
    ("rmsprop", {"momentum": float("inf")}, "rmsprop momentum must be a finite number"),
    ("rmsprop", {"centered": "maybe"}, "rmsprop centered must be true or false"),
    ("adam", {"betas": "0.9,1.5"}, r"adam betas must each be in \[0, 1\), got 1.5"),
    ("adamw", {"betas": (1.0, 0.999)}, r"adamw betas must each be in \[0, 1\), got 1"),
    ("adam", {"betas": "-0.1,0.9"}, "adam betas must be at least 0"),
    ("adam", {"betas": "0.9"}, "adam betas needs 2 comma-separated numbers, got 1"),
    ("adam", {"betas": "0.9,nan"}, "adam betas must be a finite number"),
    ("adam", {"eps": -1e-8}, "adam eps must be at least 0"),
    ("adamw", {"weight_decay": -0.01}, "adamw weight_decay must be at least 0"),
    ("nope", {}, "unknown optimizer 'nope'"),
])
def test_bad_hyperparameters_are_refused_with_a_clear_message(name, raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_hyperparams(name, raw)


# -- hand-computed steps: p0 = (1, -2), g1 = (0.5, 1), g2 = (1, -1) ---------------------------

@pytest.mark.parametrize(("hp", "p1", "p2"), [
    ({}, [0.95, -2.1], [0.85, -2.0]),
    # buf1 = g1; buf2 = 0.9*g1 + g2 = (1.45, -0.1)
    ({"momentum": 0.9}, [0.95, -2.1], [0.805, -2.09]),
    # torch's first buffer is the plain gradient; dampening scales later gradients only
    ({"momentum": 0.9, "dampening": 0.5}, [0.95, -2.1], [0.855, -2.14]),
    # d1 = g1 + 0.9*g1 = (0.95, 1.9); d2 = g2 + 0.9*(1.45, -0.1) = (2.305, -1.09)
    ({"momentum": 0.9, "nesterov": True}, [0.905, -2.19], [0.6745, -2.081]),
    # d1 = g1 + 0.1*p0 = (0.6, 0.8); d2 = g2 + 0.1*p1 = (1.094, -1.208)
    ({"weight_decay": 0.1}, [0.94, -2.08], [0.8306, -1.9592]),
])
def test_sgd_first_two_steps(hp, p1, p2):
    (a1, a2), state = run("sgd", hp, [G1, G2], lr=0.1)
    check(a1, p1)
    check(a2, p2)
    if hp.get("momentum"):
        assert set(state) == {"momentum_buffer"}
    else:
        assert state == {}


def test_sgd_momentum_buffer_follows_torch():
    _, state = run("sgd", {"momentum": 0.9, "dampening": 0.5}, [G1, G2], lr=0.1)
    check(state["momentum_buffer"], [0.9 * 0.5 + 0.5 * 1.0, 0.9 * 1.0 + 0.5 * -1.0])


def test_adagrad_first_two_steps():
    (p1, p2), state = run("adagrad", {"eps": 0.0}, [G1, G2], lr=0.1)
    check(p1, [0.9, -2.1])                                   # sum1 = g1², step lr*sign(g)
    check(p2, [0.9 - 0.1 / math.sqrt(1.25), -2.1 + 0.1 / math.sqrt(2.0)])
    assert state["step"] == 2
    assert type(state["step"]) is int
    check(state["sum"], [1.25, 2.0])


def test_adagrad_options():
    _, p2 = run("adagrad", {"eps": 0.0, "lr_decay": 0.5}, [G1, G2], lr=0.1)[0]
    clr = 0.1 / (1 + 1 * 0.5)
    check(p2, [0.9 - clr / math.sqrt(1.25), -2.1 + clr / math.sqrt(2.0)])
    (p1,), _ = run("adagrad", {"eps": 0.0, "initial_accumulator_value": 0.75}, [G1], lr=0.1)
    check(p1, [1.0 - 0.1 * 0.5 / 1.0, -2.0 - 0.1 / math.sqrt(1.75)])
    (p1,), _ = run("adagrad", {"eps": 0.0, "weight_decay": 1.0}, [G1], lr=0.1)
    check(p1, [0.9, -1.9])                                   # g + p0 = (1.5, -1)
    (p1,), _ = run("adagrad", {}, [[0.0, 1.0]], lr=0.1)
    check(p1, [1.0, -2.0 - 0.1 / (1.0 + 1e-10)])             # eps keeps 0/0 away


def test_rmsprop_first_two_steps():
    (p1, p2), state = run("rmsprop", {"eps": 0.0}, [G1, G2], lr=0.01)
    check(p1, [0.9, -2.1])                                   # g / sqrt(0.01 g²) = 10 sign(g)
    sa2 = [0.99 * 0.0025 + 0.01 * 1.0, 0.99 * 0.01 + 0.01 * 1.0]
    check(state["square_avg"], sa2)
    check(p2, [0.9 - 0.01 / math.sqrt(sa2[0]), -2.1 + 0.01 / math.sqrt(sa2[1])])


def test_rmsprop_centered():
    (p1, p2), state = run("rmsprop", {"eps": 0.0, "centered": True}, [G1, G2], lr=0.01)
    check(p1, [1.0 - 0.01 * 0.5 / math.sqrt(0.0025 - 0.005**2),
               -2.0 - 0.01 * 1.0 / math.sqrt(0.01 - 0.01**2)])
    ga2 = [0.99 * 0.005 + 0.01 * 1.0, 0.99 * 0.01 + 0.01 * -1.0]
    check(state["grad_avg"], ga2)
    var2 = [0.012475 - ga2[0] ** 2, 0.0199 - ga2[1] ** 2]
    check(p2, [p1[0] - 0.01 / math.sqrt(var2[0]), p1[1] + 0.01 / math.sqrt(var2[1])])


def test_rmsprop_momentum_and_weight_decay():
    (p1, p2), state = run("rmsprop", {"eps": 0.0, "momentum": 0.5}, [G1, G2], lr=0.01)
    check(p1, [0.9, -2.1])                                   # buf1 = (10, 10)
    buf2 = [0.5 * 10 + 1 / math.sqrt(0.012475), 0.5 * 10 - 1 / math.sqrt(0.0199)]
    check(state["momentum_buffer"], buf2)
    check(p2, [0.9 - 0.01 * buf2[0], -2.1 - 0.01 * buf2[1]])
    (p1,), _ = run("rmsprop", {"eps": 0.0, "weight_decay": 1.0}, [G1], lr=0.01)
    check(p1, [0.9, -1.9])                                   # g + p0 = (1.5, -1)


# Adam, lr 0.1, eps 0: the first step is lr * sign(g). Second step with g2:
# m2 = 0.9*0.1*g1 + 0.1*g2 = (0.145, -0.01); v2 = 0.999*0.001*g1² + 0.001*g2²
M2 = [0.145, -0.01]
V2 = [0.999 * 0.00025 + 0.001, 0.999 * 0.001 + 0.001]
BC1, BC2 = 1 - 0.9**2, 1 - 0.999**2


def _adam_update(m, v):
    return (0.1 / BC1) * m / (math.sqrt(v) / math.sqrt(BC2))


def test_adam_first_two_steps():
    (p1, p2), state = run("adam", {"eps": 0.0}, [G1, G2], lr=0.1)
    check(p1, [0.9, -2.1])
    check(state["exp_avg"], M2)
    check(state["exp_avg_sq"], V2)
    check(p2, [0.9 - _adam_update(M2[0], V2[0]), -2.1 - _adam_update(M2[1], V2[1])])
    check(p2[1], -2.1 + 0.1 / 19)                            # v̂ = 1 in that coordinate


def test_adam_amsgrad_uses_the_largest_second_moment():
    grads = [G1, [0.0, 0.0]]                                 # v shrinks on the second step
    m2 = [0.9 * 0.05, 0.9 * 0.1]
    v1 = [0.00025, 0.001]
    (_, plain), _ = run("adam", {"eps": 0.0}, grads, lr=0.1)
    (_, ams), state = run("adam", {"eps": 0.0, "amsgrad": True}, grads, lr=0.1)
    check(plain, [0.9 - _adam_update(m2[0], 0.999 * v1[0]), -2.1 - _adam_update(m2[1],
                                                                                 0.999 * v1[1])])
    check(ams, [0.9 - _adam_update(m2[0], v1[0]), -2.1 - _adam_update(m2[1], v1[1])])
    check(state["max_exp_avg_sq"], v1)


def test_adam_weight_decay_is_added_to_the_gradient():
    (p1,), _ = run("adam", {"eps": 0.0, "weight_decay": 1.0}, [G1], lr=0.1)
    check(p1, [0.9, -1.9])                                   # g + p0 = (1.5, -1): sign flips


def test_adamw_decays_the_parameters_then_steps():
    (p1, p2), _ = run("adamw", {"eps": 0.0, "weight_decay": 0.5}, [G1, G2], lr=0.1)
    check(p1, [1.0 * 0.95 - 0.1, -2.0 * 0.95 - 0.1])
    check(p2, [0.85 * 0.95 - _adam_update(M2[0], V2[0]), -2.0 * 0.95 - _adam_update(M2[1], V2[1])])


# -- fixed points and convergence ------------------------------------------------------------

CONFIGS = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adagrad", {}), ("rmsprop", {}), ("rmsprop", {"momentum": 0.9, "centered": True}),
    ("adam", {}), ("adam", {"amsgrad": True}), ("adamw", {"weight_decay": 0.0}),
]


@pytest.mark.parametrize(("name", "hp"), CONFIGS)
def test_zero_gradient_from_zero_state_stays_put(name, hp):
    traj, _ = run(name, hp, [[0.0, 0.0]] * 5, lr=0.1)
    for params in traj:
        assert np.array_equal(params, P0)


def test_adamw_shrinks_parameters_even_without_gradient():
    traj, _ = run("adamw", {"weight_decay": 0.1}, [[0.0, 0.0]] * 3, lr=0.5)
    expected = np.array(P0)
    for params in traj:
        expected = expected * (1 - 0.5 * 0.1)
        check(params, expected)


# RMSprop's steps are normalised to about lr, so at a constant lr it hovers within ~lr/2 of
# the minimum instead of closing in (Adam's shrink because its momentum averages out).
@pytest.mark.parametrize(("name", "hp", "lr", "tol"), [
    ("sgd", {}, 0.1, 1e-9), ("sgd", {"momentum": 0.9}, 0.05, 1e-9),
    ("sgd", {"momentum": 0.9, "nesterov": True}, 0.05, 1e-9),
    ("sgd", {"weight_decay": 0.1}, 0.1, 1e-9), ("adagrad", {}, 0.5, 1e-9),
    ("rmsprop", {}, 0.01, 0.01), ("rmsprop", {"centered": True}, 0.01, 0.01),
    ("adam", {}, 0.05, 1e-9), ("adam", {"amsgrad": True}, 0.05, 1e-9), ("adamw", {}, 0.05, 1e-9),
])
def test_converges_on_a_quadratic_bowl(name, hp, lr, tol):
    hp = validate_hyperparams(name, hp)
    params = np.array(P0)
    state = init_state(name, params, hp)
    for _ in range(3000):
        params, state = step(name, params, params.copy(), state, lr, hp)  # f = x²/2, f' = x
    assert np.max(np.abs(params)) < tol


# -- purity ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "hp"), [*CONFIGS, ("adamw", {"amsgrad": True}),
                                          ("sgd", {"weight_decay": 0.1, "momentum": 0.5})])
def test_step_is_pure_and_returns_read_only_arrays(name, hp):
    rng = np.random.default_rng(3)
    hp = validate_hyperparams(name, hp)
    params = rng.standard_normal(4)
    state = init_state(name, params, hp)
    params, state = step(name, params, rng.standard_normal(4), state, 0.1, hp)
    grad = rng.standard_normal(4)
    copies = (params.copy(), grad.copy(), {k: np.copy(v) for k, v in state.items()})
    new_params, new_state = step(name, params, grad, state, 0.1, hp)
    assert np.array_equal(params, copies[0])
    assert np.array_equal(grad, copies[1])
    assert state.keys() == copies[2].keys()
    assert all(np.array_equal(state[k], v) for k, v in copies[2].items())
    assert new_state is not state
    arrays = [new_params] + [v for v in new_state.values() if isinstance(v, np.ndarray)]
    for array in arrays:
        assert not array.flags.writeable
        assert array.dtype == np.float64
        for old in (params, grad, *[v for v in state.values() if isinstance(v, np.ndarray)]):
            assert not np.shares_memory(array, old)
    assert set(new_state) <= {"step", *optimizers.get_optimizer(name).state_names}


def test_init_state_holds_what_torch_creates():
    z = np.zeros(3)
    assert init_state("sgd", z, validate_hyperparams("sgd", {"momentum": 0.9})) == {}
    s = init_state("rmsprop", z, validate_hyperparams("rmsprop", {"momentum": 0.9,
                                                                  "centered": True}))
    assert set(s) == {"step", "square_avg", "momentum_buffer", "grad_avg"}
    assert set(init_state("adam", z, validate_hyperparams("adam", {}))) == {
        "step", "exp_avg", "exp_avg_sq"}
    s = init_state("adagrad", z, validate_hyperparams("adagrad",
                                                      {"initial_accumulator_value": 0.2}))
    assert s["step"] == 0
    assert np.array_equal(s["sum"], [0.2] * 3)
    assert not s["sum"].flags.writeable


# -- the newer optimizers ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "raw", "message"), [
    ("rprop", {"etas": "1.2,0.5"}, "rprop etas must satisfy 0 < etaminus < 1 < etaplus"),
    ("rprop", {"etas": "0.5,1"}, "rprop etas must satisfy"),
    ("rprop", {"step_sizes": "1,0.1"}, "rprop step_sizes must be min,max with min <= max"),
    ("adadelta", {"rho": 1.5}, "adadelta rho must be at most 1"),
    ("adafactor", {"beta2_decay": 0.5}, "adafactor beta2_decay must be at most 0"),
    ("adafactor", {"d": 0.5}, "adafactor d must be at least 1"),
    ("lion", {"betas": "0.9,1"}, r"lion betas must each be in \[0, 1\)"),
    ("nadam", {"momentum_decay": -1}, "nadam momentum_decay must be at least 0"),
    ("lbfgs", {"line_search_fn": "armijo"}, "lbfgs line_search_fn must be one of none, "
                                            "strong_wolfe"),
    ("lbfgs", {"max_eval": 0}, "lbfgs max_eval must be at least 1"),
    ("lbfgs", {"history_size": "many"}, "lbfgs history_size must be a whole number"),
])
def test_newer_optimizers_refuse_what_torch_refuses(name, raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_hyperparams(name, raw)


def test_lbfgs_options_parse_like_torch():
    hp = validate_hyperparams("lbfgs", {"max_eval": "none", "line_search_fn": "None"})
    assert hp["max_eval"] is None
    assert hp["line_search_fn"] == "none"
    assert validate_hyperparams("lbfgs", {"max_eval": "7"})["max_eval"] == 7
    assert optimizers.get_optimizer("lbfgs").uses_closure
    assert optimizers.get_optimizer("lion").torch_class is None
    assert "not in torch" in optimizers.get_optimizer("lion").title


def test_lbfgs_must_be_stepped_with_a_closure():
    hp = validate_hyperparams("lbfgs", {})
    with pytest.raises(ValueError, match="closure_step"):
        step("lbfgs", np.zeros(2), np.ones(2), init_state("lbfgs", np.zeros(2), hp), 1.0, hp)


def test_lbfgs_solves_a_quadratic_and_counts_its_evaluations():
    """f = ½ xᵀAx: with the strong Wolfe search one step (20 iterations) gets within 1e-4 of
    the minimum from (1, 1), a loss 1e9 times smaller; each
    evaluation the closure makes is counted (the first included)."""
    a = np.diag([1.0, 10.0])
    calls = []

    def evaluate(x):
        calls.append(x)
        return 0.5 * float(x @ a @ x), a @ x

    hp = validate_hyperparams("lbfgs", {"line_search_fn": "strong_wolfe"})
    x0 = np.array([1.0, 1.0])
    state = init_state("lbfgs", x0, hp)
    loss, grad = evaluate(x0)
    params, state = optimizers.closure_step("lbfgs", x0, loss, grad, state, 1.0, hp, evaluate)
    assert state["evals"] == len(calls) > 2
    assert np.max(np.abs(params)) < 1e-4
    assert evaluate(params)[0] < 1e-9 * loss
    assert state["func_evals"] == state["evals"]
    assert state["history_len"] == state["old_dirs"].shape[0] >= 1


def test_rprop_and_asgd_start_from_the_first_learning_rate():
    z = np.zeros(2)
    s = init_state("rprop", z, validate_hyperparams("rprop", {}), lr=0.3)
    assert np.array_equal(s["step_size"], [0.3, 0.3])
    assert init_state("asgd", z, validate_hyperparams("asgd", {}), lr=0.3)["eta"] == 0.3


@pytest.mark.parametrize("name", ["nadam", "radam", "adamax", "adadelta", "rprop", "asgd",
                                  "adafactor", "lion"])
def test_newer_steps_are_pure_and_read_only(name):
    rng = np.random.default_rng(5)
    hp = validate_hyperparams(name, {})
    params = rng.standard_normal(3)
    state = init_state(name, params, hp, lr=0.01)
    params, state = step(name, params, rng.standard_normal(3), state, 0.01, hp)
    grad = rng.standard_normal(3)
    before = (params.copy(), {k: np.copy(v) for k, v in state.items()})
    new_params, new_state = step(name, params, grad, state, 0.01, hp)
    assert np.array_equal(params, before[0])
    assert all(np.array_equal(state[k], v) for k, v in before[1].items())
    assert not new_params.flags.writeable
    assert not np.array_equal(new_params, params)
    assert set(new_state) <= {"step", *optimizers.get_optimizer(name).state_names}
