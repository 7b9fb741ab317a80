"""Optimizers: the documented update rules of keras.optimizers, in float64.

`run(name, params, variables, gradients)` applies one optimizer to named variables over
several steps (one dict of gradients per step) and returns, after each step, every variable
and the optimizer's slot variables (momentums, second moments, accumulators), named as the
documentation or the cited paper names them.

One step of every optimizer (the base class's documented arguments, in this order):

1. gradient_accumulation_steps = k: "model & optimizer variables will not be updated at
   every step; instead they will be updated every k steps, using the average value of the
   gradients since the last update". Steps 1..k-1 of each group only accumulate; step k
   applies the mean of the k gradients. "Learning rate schedules will look at 'real'
   iterations value (optimizer steps)" (the schedule gets the index of the step that
   updates: k - 1 for the first update) and EMA at iterations // k. The docs do not say
   which step count the update rule's own t (bias correction) uses; we read it as the
   number of updates made, the paper's t (the first update of accumulated gradients has
   t = 1).
2. Clipping of the gradient: clipnorm c: each gradient g <- g * min(1, c / ||g||_2);
   global_clipnorm c: every gradient times min(1, c / sqrt(sum over variables ||g||^2));
   clipvalue c: "clipped to be no higher than this value", read as each element clipped to
   [-c, c] (a magnitude; the docs say only "no higher").
3. weight_decay wd: the docs say only "If set, weight decay is applied". We read it as the
   decoupled weight decay of Loshchilov and Hutter (the paper AdamW cites), scaled by the
   step's learning rate and applied to the variable before the update rule:
   w <- w - lr * wd * w (Lion's docstring speaks of its strength as lr * wd). ScheduleFreeAdamW
   (DECAY_IN_RULE) applies it in its rule, where its paper's Algorithm puts it; Muon's AdamW
   step applies its own adam_weight_decay instead (see _muon_adamw).
4. The update rule below, with lr the learning rate (or schedule(iterations), iterations
   counting steps before this one from 0) and t = iterations + 1.
5. use_ema: "new_average = ema_momentum * old_average + (1 - ema_momentum) *
   current_variable_value" after each update; the docs do not say where the average starts,
   and we read it as the average of the values seen so far, so after the first update it is
   that value. "Every ema_overwrite_frequency steps of iterations, we overwrite the model
   variable by its moving average": after an update that makes the EMA's iteration count a
   multiple of the frequency.

Learning-rate schedules (keras.optimizers.schedules, formulas from their docstrings) are
given as {"class_name": NAME, "config": {...}} in place of a number; see `schedule`.

`error_bound(name, params, variables, gradients, fmt)` bounds, per element and step, how far a
correct evaluation of these steps in a floating-point format may land from `run`'s exact
values: the section "error bounds" below.
"""
from __future__ import annotations

import math
import re

import numpy as np

from reference_impl import rounding

# Keras's defaults, from each class's signature in the keras.optimizers documentation.
COMMON = {
    "weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "gradient_accumulation_steps": None,
}
DEFAULTS = {
    "SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "AdamW": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "Adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "Adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Ftrl": {"learning_rate": 0.001, "learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
             "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
             "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0},
    "Lion": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99},
    "Lamb": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Adafactor": {"learning_rate": 0.001, "beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3,
                  "clip_threshold": 1.0, "relative_step": True},
    "ScheduleFreeAdamW": {"learning_rate": 0.0025, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "warmup_steps": 0},
    # only the arguments of its documented AdamW step (see _muon_adamw); the Muon step's
    # (momentum, nesterov, ns_steps, muon_a/b/c, rms_rate) are not modelled
    "Muon": {"learning_rate": 0.001, "adam_beta_1": 0.9, "adam_beta_2": 0.999, "adam_weight_decay": 0.004,
             "epsilon": 1e-7, "weight_decay": 0.004, "exclude_layers": None, "exclude_embeddings": True,
             "adam_lr_ratio": 1.0},
}
# Rules that apply weight_decay themselves (where their paper puts it), not as the base step 3;
# Muon's AdamW step applies adam_weight_decay in its rule.
DECAY_IN_RULE = {"ScheduleFreeAdamW", "Muon"}
# LossScaleOptimizer wraps one of the above: {"inner_optimizer": {"class_name", "config"}, ...}
LOSS_SCALE_DEFAULTS = {"initial_scale": 32768.0, "dynamic_growth_steps": 2000}


# --- learning-rate schedules ---------------------------------------------------------------

def schedule(identifier: dict, step: int) -> float:
    """The learning rate of keras.optimizers.schedules.<class_name>(**config) at optimizer
    step `step` (the number of updates before this one, from 0), from the docstrings:

    ExponentialDecay: initial_learning_rate * decay_rate ** (step / decay_steps), the exponent
      floored when staircase.
    PiecewiseConstantDecay: values[0] while step <= boundaries[0], values[i] while
      boundaries[i-1] < step <= boundaries[i], values[-1] beyond.
    PolynomialDecay: (initial - end) * (1 - s / d) ** power + end with s = min(step, d);
      with cycle, d = decay_steps * ceil(step / decay_steps) (decay_steps at step 0: the docs'
      ceil(0) = 0 would divide by zero; we read the first cycle as starting at 0).
    InverseTimeDecay: initial / (1 + decay_rate * step / decay_steps), floored when staircase.
    CosineDecay (no warmup): initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, d) / d)) + alpha).
      With warmup_steps w > 0 and warmup_target T: for step < w, the docs' formula
      "completed_fraction * total_delta" omits the starting point; we read the documented
      "linear increase ... from initial_learning_rate to warmup_target" as
      initial + (step / w) * (T - initial), then the cosine decay from T over step - w.
    CosineDecayRestarts (SGDR, Loshchilov and Hutter): period i lasts first_decay_steps *
      t_mul**i steps; inside it, with f the completed fraction,
      initial * (m_mul**i * (1 - alpha) * 0.5 * (1 + cos(pi f)) + alpha). The docs say both
      that a restart starts at "m_mul times initial learning rate" and that alpha is the
      "minimum learning rate value as a fraction of the initial_learning_rate"; we read
      alpha * initial as the floor of every period (so a restart starts at
      initial * (m_mul**i (1 - alpha) + alpha)), the argument's own description.
    """
    name, c = identifier["class_name"], identifier.get("config", {})
    if name == "ExponentialDecay":
        p = step / c["decay_steps"]
        return c["initial_learning_rate"] * c["decay_rate"] ** (math.floor(p) if c.get("staircase") else p)
    if name == "PiecewiseConstantDecay":
        boundaries, values = c["boundaries"], c["values"]
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay needs one more value than boundaries")
        return values[int(np.searchsorted(boundaries, step, side="left"))]
    if name == "PolynomialDecay":
        d, power = c["decay_steps"], c.get("power", 1.0)
        end = c.get("end_learning_rate", 0.0001)
        if c.get("cycle"):
            d = d * max(1, math.ceil(step / d))
            s = step
        else:
            s = min(step, d)
        return (c["initial_learning_rate"] - end) * (1 - s / d) ** power + end
    if name == "InverseTimeDecay":
        p = step / c["decay_steps"]
        return c["initial_learning_rate"] / (1 + c["decay_rate"] * (math.floor(p) if c.get("staircase") else p))
    if name == "CosineDecay":
        initial, alpha, d = c["initial_learning_rate"], c.get("alpha", 0.0), c["decay_steps"]
        warmup, target = c.get("warmup_steps", 0), c.get("warmup_target")
        if target is not None and warmup > 0:
            if step < warmup:
                return initial + step / warmup * (target - initial)
            initial, step = target, step - warmup
        s = min(step, d)
        return initial * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / d)) + alpha)
    if name == "CosineDecayRestarts":
        initial, first = c["initial_learning_rate"], c["first_decay_steps"]
        t_mul, m_mul, alpha = c.get("t_mul", 2.0), c.get("m_mul", 1.0), c.get("alpha", 0.0)
        start, length, i = 0.0, float(first), 0
        while step >= start + length:
            start, length, i = start + length, length * t_mul, i + 1
        f = (step - start) / length
        return initial * (m_mul ** i * (1 - alpha) * 0.5 * (1 + math.cos(math.pi * f)) + alpha)
    raise ValueError(f"unknown learning-rate schedule {name!r}")


def learning_rate(value, step: int) -> float:
    return schedule(value, step) if isinstance(value, dict) else float(value)


# --- the update rules ----------------------------------------------------------------------
# Each rule(w, g, slots, lr, t, p) -> (new w, new slots) for one variable; `slots` starts as
# init(w, p). p holds every argument with its default.

def _sgd(w, g, s, lr, t, p):
    """The SGD docstring: w <- w - lr g when momentum is 0; else velocity <- momentum *
    velocity - lr g and w <- w + velocity; with nesterov, w <- w + momentum * velocity - lr g
    (the new velocity)."""
    if p["momentum"] == 0:
        return w - lr * g, s
    v = p["momentum"] * s["velocity"] - lr * g
    return (w + p["momentum"] * v - lr * g if p["nesterov"] else w + v), {"velocity": v}


def _rmsprop(w, g, s, lr, t, p):
    """RMSprop (Hinton, lecture 6e): a moving average of the squared gradient,
    v <- rho v + (1 - rho) g^2, and the gradient divided by its root. centered: also
    mg <- rho mg + (1 - rho) g, and the root of v - mg^2 (the variance estimate). The docstring
    says epsilon is the "epsilon hat" of Kingma and Ba's formula before their Section 2.1,
    which is added to the root: step = lr g / (sqrt(v [- mg^2]) + epsilon). momentum m > 0 ("plain
    momentum", "a decay rate equal to 1 - momentum", read as the classical heavy ball):
    mom <- m mom + step, w <- w - mom; else w <- w - step."""
    rho = p["rho"]
    v = rho * s["velocity"] + (1 - rho) * g * g
    out = {"velocity": v}
    denominator = v
    if p["centered"]:
        mg = rho * s["average_gradient"] + (1 - rho) * g
        out["average_gradient"] = mg
        denominator = v - mg * mg
    step = lr * g / (np.sqrt(denominator) + p["epsilon"])
    if p["momentum"] > 0:
        mom = p["momentum"] * s["momentum"] + step
        out["momentum"] = mom
        return w - mom, out
    return w - step, out


def _bias_corrected(previous, new, beta, t):
    """The bias-corrected moving average v_t / (1 - beta^t) of v_t = beta v_{t-1} + (1 - beta) new_t
    (v_0 = 0), carried as itself (`previous` is step t - 1's; any value at t = 1):
      hat_t = hat_{t-1} + a_t (new_t - hat_{t-1}),  a_t = (1 - beta) / (1 - beta^t) = 1 / sum_{k<t} beta^k
    (divide the recursion of v by 1 - beta^t, with beta (1 - beta^{t-1}) = (1 - beta^t) - (1 - beta)).
    For beta < 1 it is the same number as the quotient; at beta = 1, where the quotient is 0 / 0,
    it is the quotient's limit as beta -> 1: a_t = 1 / t, the plain mean of new_1..new_t. A 16-bit
    case holds beta as its format rounds it, and bfloat16 rounds the default beta_2 = 0.999 to 1
    (the registry's bfloat16-beta-2-rounds-to-one says what tf.keras makes of that)."""
    a = 1.0 / np.sum(float(beta) ** np.arange(t, dtype=np.float64))
    return previous + a * (new - previous)


def _adam(w, g, s, lr, t, p):
    """Adam (Kingma and Ba, the formula before their Section 2.1, with "epsilon hat" as the
    docstring says): m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon). amsgrad (Reddi et al.):
    v_hat <- max(v_hat, v) takes v's place in the step (the docs are silent on its bias
    correction; we keep the same factor). AdamW is this with decoupled weight decay (the base
    step's weight_decay, default 0.004). At beta_2 = 1 (0.999 held in bfloat16) the factor
    sqrt(1 - b2^t) is 0 and there is no step; that is also the formula's limit as beta_2 -> 1,
    because epsilon is added to the uncorrected sqrt(v), which vanishes with 1 - beta_2."""
    b1, b2 = p["beta_1"], p["beta_2"]
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    out = {"m": m, "v": v}
    second = v
    if p["amsgrad"]:
        second = np.maximum(s["v_hat"], v)
        out["v_hat"] = second
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - alpha * m / (np.sqrt(second) + p["epsilon"]), out


def _adamax(w, g, s, lr, t, p):
    """The Adamax docstring (Kingma and Ba, Section 7.1): m <- b1 m + (1 - b1) g,
    u <- max(b2 u, |g|), w <- w - lr / (1 - b1^t) * m / (u + epsilon)."""
    m = p["beta_1"] * s["m"] + (1 - p["beta_1"]) * g
    u = np.maximum(p["beta_2"] * s["u"], np.abs(g))
    return w - lr / (1 - p["beta_1"] ** t) * m / (u + p["epsilon"]), {"m": m, "u": u}


def _nadam_mu(b1, t):
    """Dozat's momentum schedule: mu_t = b1 (1 - 0.5 * 0.96 ** (t / 250))."""
    return b1 * (1 - 0.5 * 0.96 ** (t * 0.004))


def _nadam(w, g, s, lr, t, p):
    """Nadam (Dozat 2016, Algorithm 2: Adam with Nesterov momentum and his momentum schedule
    mu_t = b1 (1 - 0.5 * 0.96^(t / 250))): m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    m_hat = mu_{t+1} m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t) g / (1 - prod_{i<=t} mu_i),
    v_hat = v / (1 - b2^t), w <- w - lr m_hat / (sqrt(v_hat) + epsilon) (epsilon hat, as the
    docstring says). The running product of mu is the slot `mu_product`; the moment updates
    use b1 itself (Dozat's mu there is the scheduled one; the docs do not say, and we read
    the constant beta_1 as "the exponential decay rate for the 1st moment estimates"). v_hat is
    `_bias_corrected`'s (its limit where beta_2 is 1)."""
    b1, b2 = p["beta_1"], p["beta_2"]
    mu_t, mu_next = _nadam_mu(b1, t), _nadam_mu(b1, t + 1)
    product = s["mu_product"] * mu_t
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
    v_hat = _bias_corrected(s["v_corrected"], g * g, b2, t)
    return (w - lr * m_hat / (np.sqrt(v_hat) + p["epsilon"]),
            {"m": m, "v": v, "mu_product": product, "v_corrected": v_hat})


def _adagrad(w, g, s, lr, t, p):
    """Adagrad (Duchi et al.): accumulator <- accumulator + g^2 (starting at
    initial_accumulator_value), w <- w - lr g / sqrt(accumulator + epsilon). Duchi's rule has no
    epsilon and the docs do not place it ("for maintaining numerical stability"); we read it
    inside the square root."""
    a = s["accumulator"] + g * g
    return w - lr * g / np.sqrt(a + p["epsilon"]), {"accumulator": a}


def _adadelta(w, g, s, lr, t, p):
    """Adadelta (Zeiler 2012, Algorithm 1, with RMS[x] = sqrt(E[x^2] + epsilon) as there):
    E[g^2] <- rho E[g^2] + (1 - rho) g^2, dx = -RMS[dx]_{t-1} / RMS[g]_t * g,
    E[dx^2] <- rho E[dx^2] + (1 - rho) dx^2, w <- w + lr dx (the docs: lr = 1.0 is the paper's)."""
    rho, eps = p["rho"], p["epsilon"]
    eg = rho * s["accumulated_grad"] + (1 - rho) * g * g
    dx = -np.sqrt(s["accumulated_delta"] + eps) / np.sqrt(eg + eps) * g
    ed = rho * s["accumulated_delta"] + (1 - rho) * dx * dx
    return w + lr * dx, {"accumulated_grad": eg, "accumulated_delta": ed}


def _ftrl(w, g, s, lr, t, p):
    """The Ftrl docstring (McMahan et al. 2013): with shrinkage, the gradient in z is
    g + 2 l2_shrinkage w ("gradient is replaced with a gradient with shrinkage", the gradient
    of the L2 penalty l2_shrinkage * w^2); prev_n = n, n <- n + g^2, sigma = (n^-p - prev_n^-p) / lr with
    p = learning_rate_power, z <- z + g - sigma w, and w = 0 where |z| < l1, else
    w = (sign(z) l1 - z) / ((beta + n^-p) / lr + l2). The docstring writes sqrt(n) in the last
    formula, which is n^-p for the default p = -0.5; we read it as n^-p, which makes p = 0 "a
    fixed learning rate" as documented. n starts at initial_accumulator_value, z at 0. The
    docs do not say whether n accumulates the plain gradient or the one with shrinkage; we
    read n as "the sum of squared gradients" of the loss (the plain g) and the shrinkage
    gradient as entering z only."""
    power = -p["learning_rate_power"]
    l1, l2 = p["l1_regularization_strength"], p["l2_regularization_strength"]
    n = s["n"] + g * g
    sigma = (n ** power - s["n"] ** power) / lr
    z = s["z"] + g + 2 * p["l2_shrinkage_regularization_strength"] * w - sigma * w
    w_new = np.where(np.abs(z) < l1, 0.0, (np.sign(z) * l1 - z) / ((p["beta"] + n ** power) / lr + l2))
    return w_new, {"n": n, "z": z}


def _lion(w, g, s, lr, t, p):
    """Lion (Chen et al. 2023, Algorithm 2): c = b1 m + (1 - b1) g, w <- w - lr sign(c),
    m <- b2 m + (1 - b2) g (its decoupled weight decay is the base step's)."""
    c = p["beta_1"] * s["m"] + (1 - p["beta_1"]) * g
    return w - lr * np.sign(c), {"m": p["beta_2"] * s["m"] + (1 - p["beta_2"]) * g}


def _lamb(w, g, s, lr, t, p):
    """LAMB (You et al. 2019, Algorithm 2, phi the identity, its weight decay the base
    step's): m, v as Adam's, m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
    r = m_hat / (sqrt(v_hat) + epsilon), w <- w - lr * ||w|| / ||r|| * r with the norms over
    the whole variable ("layer-wise"); the docs do not say what happens when a norm is 0, and
    we read the trust ratio as 1 then. v_hat is `_bias_corrected`'s (its limit where beta_2 is 1)."""
    b1, b2 = p["beta_1"], p["beta_2"]
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    v_hat = _bias_corrected(s["v_corrected"], g * g, b2, t)
    r = (m / (1 - b1 ** t)) / (np.sqrt(v_hat) + p["epsilon"])
    wn, rn = np.linalg.norm(w), np.linalg.norm(r)
    ratio = wn / rn if wn > 0 and rn > 0 else 1.0
    return w - lr * ratio * r, {"m": m, "v": v, "v_corrected": v_hat}


def _rms(x):
    return math.sqrt(float(np.mean(np.square(x))))


def _adafactor(w, g, s, lr, t, p):
    """Adafactor (Shazeer and Stern 2018, Algorithms 4 and 5, with the docstring's arguments):
    beta2_t = 1 - t^beta_2_decay; with relative_step the step size is min(lr, 1 / sqrt(t))
    ("learning rate will be adjusted based on current iterations"), and it is scaled by
    max(epsilon_2, RMS(w)) (the paper's relative step; epsilon_2 is its epsilon_2). For a
    variable of rank >= 2 the second moment is factored over its last two axes:
    r <- beta2_t r + (1 - beta2_t) mean_{last axis}(g^2 + epsilon_1),
    c <- beta2_t c + (1 - beta2_t) mean_{second-to-last axis}(g^2 + epsilon_1),
    v = r c / mean_{last axis}(r); rank < 2: v <- beta2_t v + (1 - beta2_t)(g^2 + epsilon_1).
    u = g / sqrt(v), u <- u / max(1, RMS(u) / clip_threshold), w <- w - alpha u."""
    decay = 1 - t ** p["beta_2_decay"]
    step = min(lr, 1 / math.sqrt(t)) if p["relative_step"] else lr
    alpha = max(p["epsilon_2"], _rms(w)) * step
    g2 = g * g + p["epsilon_1"]
    if w.ndim >= 2:
        r = decay * s["r"] + (1 - decay) * g2.mean(axis=-1)
        c = decay * s["c"] + (1 - decay) * g2.mean(axis=-2)
        v = r[..., :, None] * c[..., None, :] / r.mean(axis=-1)[..., None, None]
        out = {"r": r, "c": c}
    else:
        v = decay * s["v"] + (1 - decay) * g2
        out = {"v": v}
    u = g / np.sqrt(v)
    u = u / max(1.0, _rms(u) / p["clip_threshold"])
    return w - alpha * u, out


def _schedule_free_adamw(w, g, s, lr, t, p):
    """Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1, the
    paper the docstring cites), with y_t the model variable ("During training, the model
    parameters are set to an interpolation between `momentum` and `x`"), z_t the docstring's
    `momentum` ("the sequence where gradient updates are applied") and x_t its averaged
    sequence ("used for evaluation"); z_1 = x_1 = the initial variable, v_0 = 0. Step t, with
    g_t the gradient at y_t:
      v_t = b2 v_{t-1} + (1 - b2) g_t^2
      gamma_t = lr * sqrt(1 - b2^t) * min(1, t / warmup_steps)   (min(...) = 1 without warmup)
      z_{t+1} = z_t - gamma_t g_t / (sqrt(v_t) + epsilon) - gamma_t * weight_decay * y_t
      c_{t+1} = gamma_t^2 / sum_{i<=t} gamma_i^2
      x_{t+1} = (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}
      y_{t+1} = (1 - b1) z_{t+1} + b1 x_{t+1}   (the new variable)
    The paper's weighting is the Algorithm's gamma_t^2 (its r = 0, weight_lr_power = 2; the
    Keras docstring has neither argument); the cited repository's "paper" version weights by
    the largest gamma so far, the same while gamma does not decrease (no decaying schedule). The docstring's warmup ("the learning rate linearly
    increases from 0 to the specified learning rate") is read as the Algorithm's
    min(1, t / T_warmup). Weight decay is the Algorithm's term in z (evaluated at y_t, scaled
    by gamma_t), not the base class's decay of the variable. Keras documents no train/eval
    switch: the variable is y after every step (x is kept as a slot, not exposed). At beta_2 = 1
    (0.999 held in bfloat16) every gamma_t is 0, so z, x and y never move; that is the limit as
    beta_2 -> 1 too (gamma_t / (sqrt(v_t) + epsilon) vanishes with sqrt(1 - beta_2)), and c's 0 / 0
    is taken as 0, which changes nothing while x = z."""
    b1, b2 = p["beta_1"], p["beta_2"]
    v = b2 * s["v"] + (1 - b2) * g * g
    warm = min(1.0, t / p["warmup_steps"]) if p["warmup_steps"] else 1.0
    gamma = lr * math.sqrt(1 - b2 ** t) * warm
    z = s["z"] - gamma * g / (np.sqrt(v) + p["epsilon"]) - gamma * (p["weight_decay"] or 0.0) * w
    weight_sum = s["weight_sum"] + gamma * gamma
    c = gamma * gamma / weight_sum if weight_sum > 0 else 0.0
    x = (1 - c) * s["x"] + c * z
    return (1 - b1) * z + b1 * x, {"z": z, "x": x, "v": v, "weight_sum": np.float64(weight_sum)}


def muon_takes_adamw(path: str, shape, p: dict) -> bool:
    """Whether Muon gives the variable at `path` the AdamW step, as far as its docstring says:
    "For any variable that isn't 2D, the AdamW step will be used"; "For any variable with a name
    that matches an expression listed in the argument `exclude_layers` (a list), the AdamW step
    will be used" ("keywords of layer names to exclude. All layers with keywords in their path
    will use adamw"). We read an entry as matching when it occurs in the path as a regular
    expression (re.search: a plain keyword is then a substring of the path, both sentences'
    reading). The path of a variable made outside any layer is its name (as `route` reads it).
    False for every other variable: the Muon step, or, with exclude_embeddings, the AdamW step
    of an "embedding layer"'s variable, which the docs do not say how to recognise."""
    if len(shape) != 2:
        return True
    return any(re.search(keyword, path) for keyword in p.get("exclude_layers") or ())


def _muon_adamw(w, g, s, lr, t, p):
    """Muon's "AdamW step" (its docstring), for the variables muon_takes_adamw gives it: the
    AdamW rule (_adam, Kingma and Ba with "epsilon hat" as the docstring says; Muon has no
    amsgrad) with beta_1 = adam_beta_1, beta_2 = adam_beta_2, epsilon, at the learning rate
    lr_adam = adam_lr_ratio * lr ("the ratio of the learning rate when using Adam to the main
    learning rate"; lr the main rate or schedule(iterations)), after its decoupled weight
    decay w <- w - lr_adam * adam_weight_decay * w (none when null or 0).

    Readings, where the docs leave it open:
    - adam_weight_decay and adam_lr_ratio: the step is AdamW's, and AdamW's decay (base step 3)
      is scaled by the learning rate of its step, so by lr_adam, the rate "when using Adam";
      AdamW(learning_rate=adam_lr_ratio * lr, weight_decay=adam_weight_decay, ...) is the
      same step. (tf.keras scales it by the main rate: muon-adam-weight-decay-main-learning-rate.)
    - weight_decay (the base class's, default 0.004 in Muon's signature) does not apply to
      these variables: adam_weight_decay is "applied when using the Adam optimizer", and we
      read the two as the decays of the two steps (as adam_beta_1 and momentum are the two
      steps' momenta), not as added.
    The base step's clipping (global_clipnorm over every variable of the optimizer), EMA and
    gradient accumulation are as for every optimizer (module docstring), t the number of
    updates."""
    lr_adam = lr * p["adam_lr_ratio"]
    if p["adam_weight_decay"]:
        w = w - lr_adam * p["adam_weight_decay"] * w
    adam = {"beta_1": p["adam_beta_1"], "beta_2": p["adam_beta_2"], "epsilon": p["epsilon"], "amsgrad": False}
    return _adam(w, g, s, lr_adam, t, adam)


def _zeros(*names):
    return lambda w, p: {n: np.zeros_like(w) for n in names}


def _rmsprop_slots(w, p):
    names = ["velocity"] + (["momentum"] if p["momentum"] > 0 else []) + (["average_gradient"] if p["centered"] else [])
    return {n: np.zeros_like(w) for n in names}


def _adam_slots(w, p):
    return {n: np.zeros_like(w) for n in ("m", "v", *(("v_hat",) if p["amsgrad"] else ()))}


def _adafactor_slots(w, p):
    if w.ndim >= 2:
        return {"r": np.zeros(w.shape[:-1]), "c": np.zeros(w.shape[:-2] + w.shape[-1:])}
    return {"v": np.zeros_like(w)}


# name -> (rule, initial slots)
RULES = {
    "SGD": (_sgd, lambda w, p: {"velocity": np.zeros_like(w)} if p["momentum"] > 0 else {}),
    "RMSprop": (_rmsprop, _rmsprop_slots),
    "Adam": (_adam, _adam_slots),
    "AdamW": (_adam, _adam_slots),
    "Adamax": (_adamax, _zeros("m", "u")),
    "Nadam": (_nadam, lambda w, p: {"m": np.zeros_like(w), "v": np.zeros_like(w), "mu_product": np.float64(1.0),
                                    "v_corrected": np.zeros_like(w)}),
    "Adagrad": (_adagrad, lambda w, p: {"accumulator": np.full_like(w, p["initial_accumulator_value"])}),
    "Adadelta": (_adadelta, _zeros("accumulated_grad", "accumulated_delta")),
    "Ftrl": (_ftrl, lambda w, p: {"n": np.full_like(w, p["initial_accumulator_value"]), "z": np.zeros_like(w)}),
    "Lion": (_lion, _zeros("m")),
    "Lamb": (_lamb, _zeros("m", "v", "v_corrected")),  # v_corrected: the reference's own (`_bias_corrected`)
    "Adafactor": (_adafactor, _adafactor_slots),
    "ScheduleFreeAdamW": (_schedule_free_adamw,
                          lambda w, p: {"z": w.copy(), "x": w.copy(), "v": np.zeros_like(w), "weight_sum": np.float64(0.0)}),
    "Muon": (_muon_adamw, _zeros("m", "v")),
}


def check_arguments(name: str, p: dict) -> None:
    """ValueError for what the documentation rejects."""
    if name not in RULES:
        raise ValueError(f"unknown optimizer {name!r}")
    if name == "SGD" and p["momentum"] < 0:
        raise ValueError("SGD: momentum must be >= 0 (\"float hyperparameter >= 0\")")
    if name in ("Adagrad", "Ftrl") and p["initial_accumulator_value"] < 0:
        raise ValueError(f"{name}: initial_accumulator_value must be non-negative")
    if name == "Ftrl":
        if p["learning_rate_power"] > 0:
            raise ValueError("Ftrl: learning_rate_power must be less or equal to zero")
        for key in ("l1_regularization_strength", "l2_regularization_strength", "l2_shrinkage_regularization_strength"):
            if p[key] < 0:
                raise ValueError(f"Ftrl: {key} must be greater than or equal to zero")


def _clip(grads: dict, p: dict) -> dict:
    """Step 2 of the module docstring."""
    if p["clipnorm"] is not None:
        grads = {n: g * min(1.0, p["clipnorm"] / max(np.linalg.norm(g), 1e-300)) for n, g in grads.items()}
    if p["global_clipnorm"] is not None:
        total = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
        grads = {n: g * min(1.0, p["global_clipnorm"] / max(total, 1e-300)) for n, g in grads.items()}
    if p["clipvalue"] is not None:
        grads = {n: np.clip(g, -p["clipvalue"], p["clipvalue"]) for n, g in grads.items()}
    return grads


def arguments(name: str, params: dict) -> dict:
    """Every argument of optimizer `name` with its default."""
    return {**COMMON, **DEFAULTS[name], **params}


def run(name: str, params: dict, variables: dict, gradients: list, *, ema_from_initial: bool = False) -> list:
    """After each step: {"variables": {name: array}, "slots": {name: {slot: array}},
    "learning_rate": the rate the step used (None while gradients only accumulate)}.
    name "LossScaleOptimizer" runs `params["inner_optimizer"]` ({class_name, config}) on
    unscaled gradients (see loss_scale_run); "MultiOptimizer" each variable's optimizer on it
    (see multi_run). ema_from_initial: the moving average starts from
    the variables' values before the first step (run_keras2), not from the first update's."""
    if name == "LossScaleOptimizer":
        return loss_scale_run(params, variables, gradients)
    if name == "MultiOptimizer":
        return multi_run(params, variables, gradients)
    p = arguments(name, params)
    check_arguments(name, p)
    rule, init = RULES[name]
    w = {n: np.asarray(v, np.float64) for n, v in variables.items()}
    if name == "Muon":
        unmodelled = [n for n, v in w.items() if not muon_takes_adamw(n, v.shape, p)]
        if unmodelled:
            raise NotImplementedError(
                f"Muon: {', '.join(unmodelled)} take the Muon step (2-D, no exclude_layers entry in the path), "
                "which its documentation does not fix; only the AdamW step is modelled")
    slots = {n: init(v, p) for n, v in w.items()}
    k = p["gradient_accumulation_steps"] or 1
    accumulated = {n: np.zeros_like(v) for n, v in w.items()}
    ema = {n: v.copy() for n, v in w.items()} if ema_from_initial else None
    out = []
    for iteration, grads in enumerate(gradients):
        accumulated = {n: accumulated[n] + np.asarray(grads[n], np.float64) for n in w}
        lr = None
        if (iteration + 1) % k == 0:
            g = _clip({n: a / k for n, a in accumulated.items()}, p)
            accumulated = {n: np.zeros_like(v) for n, v in w.items()}
            lr = learning_rate(p["learning_rate"], iteration)
            t = (iteration + 1) // k
            for n in w:
                v = w[n]
                if p["weight_decay"] and name not in DECAY_IN_RULE:
                    v = v - lr * p["weight_decay"] * v
                w[n], slots[n] = rule(v, g[n], slots[n], lr, t, p)
            if p["use_ema"]:
                m = p["ema_momentum"]
                ema = dict(w) if ema is None else {n: m * ema[n] + (1 - m) * w[n] for n in w}
                updates = (iteration + 1) // k
                if p["ema_overwrite_frequency"] and updates % p["ema_overwrite_frequency"] == 0:
                    w = dict(ema)
        out.append({"variables": dict(w), "slots": {n: dict(s) for n, s in slots.items()}, "learning_rate": lr})
    return out


def run_keras2(name: str, params: dict, variables: dict, gradients: list) -> list:
    """`run` as Keras 2 (tf_keras) documents use_ema: its Optimizer docstring's example says
    "`ema_momentum=1` means no decay and the stored moving average is always model variable's
    initial value before training", and with SGD(learning_rate=1, ema_momentum=0.5,
    ema_overwrite_frequency=3) on var1 = 2 and gradient 1, the third step overwrites var1 with
    "2*0.5**3+1*(1-0.5)*0.5**2+0*(1-0.5)*0.5**1+(-1)*(1-0.5)=-0.125": the average starts from
    the value before the first step, new_average = ema_momentum * old_average +
    (1 - ema_momentum) * value after each update. (Keras 3's docs say not where it starts; `run`
    starts it at the first update's value.) The overwrite is as in `run`."""
    return run(name, params, variables, gradients, ema_from_initial=True)


def loss_scale_run(params: dict, variables: dict, gradients: list) -> list:
    """LossScaleOptimizer (its docstring): the gradients it is given are of the scaled loss,
    so each is divided by the current scale before the inner optimizer's step. A step with a
    non-finite gradient is skipped and halves the scale; after dynamic_growth_steps finite
    steps in a row the scale doubles (for the next step). The record's `loss_scale` is the
    scale after the step."""
    p = {**LOSS_SCALE_DEFAULTS, **{k: v for k, v in params.items() if k != "inner_optimizer"}}
    inner = params["inner_optimizer"]
    scale, finite_steps = float(p["initial_scale"]), 0
    applied, out = [], []
    for grads in gradients:
        unscaled = {n: np.asarray(g, np.float64) / scale for n, g in grads.items()}
        if all(np.all(np.isfinite(g)) for g in unscaled.values()):
            applied.append(unscaled)
            finite_steps += 1
            if finite_steps == p["dynamic_growth_steps"]:
                scale, finite_steps = scale * 2, 0
            record = run(inner["class_name"], inner.get("config", {}), variables, applied)[-1]
        else:
            scale, finite_steps = scale / 2, 0
            record = out[-1] if out else {"variables": dict(variables), "slots": {}, "learning_rate": None}
        out.append({**record, "loss_scale": scale})
    return out


def route(optimizer_map: dict, path: str):
    """The key of `optimizer_map` that OptimizerMap's documentation gives the variable at
    `path`: "first attempts an exact key match. If no exact match is found, it treats all keys
    in the map as regular expression patterns and uses `re.fullmatch`"; "ValueError: If the
    `key` matches more than one regex pattern"; no match: None (the default optimizer). The
    docs do not say what path MultiOptimizer looks up; we read it as the variable's path (its
    callable example tests `variable.path`), which for a variable made outside any layer is
    its name."""
    if path in optimizer_map:
        return path
    matches = [key for key in optimizer_map if re.fullmatch(key, path)]
    if len(matches) > 1:
        raise ValueError(f"MultiOptimizer: variable {path!r} matches several patterns {matches}")
    return matches[0] if matches else None


def multi_run(params: dict, variables: dict, gradients: list) -> list:
    """MultiOptimizer(OptimizerMap(default_optimizer, optimizer_map)) ("An optimizer wrapper that
    delegates variables to different optimizers"): params {"default_optimizer": {class_name,
    config}, "optimizer_map": {pattern: {class_name, config}}}, each a separate optimizer. Each
    variable goes to the optimizer `route` picks for its name (the default when none), and each
    optimizer runs its own documented rule (`run`) on its own variables at every step, with its
    own step count, clipping (global_clipnorm over its own variables) and schedule. The record
    of a step merges the optimizers' variables and slots; `learning_rate` is None (the docs: a
    MultiOptimizer "will not expose `learning_rate`")."""
    optimizer_map = params.get("optimizer_map") or {}
    groups: dict = {}
    for name in variables:
        key = route(optimizer_map, name)
        groups.setdefault(key, []).append(name)
    out = [{"variables": {}, "slots": {}, "learning_rate": None} for _ in gradients]
    for key, names in groups.items():
        spec = params["default_optimizer"] if key is None else optimizer_map[key]
        if spec.get("class_name") not in RULES:
            raise ValueError(f"MultiOptimizer: no update rule for an inner {spec.get('class_name')!r}")
        records = run(spec["class_name"], spec.get("config", {}), {n: variables[n] for n in names},
                      [{n: g[n] for n in names} for g in gradients])
        for merged, record in zip(out, records):
            merged["variables"].update(record["variables"])
            merged["slots"].update(record["slots"])
    return out


# --- error bounds ----------------------------------------------------------------------------
# How far a correct evaluation of each step in a floating-point format (the case's) may land from
# the exact result, step after step: a running error analysis (Higham, "Accuracy and Stability of
# Numerical Algorithms", 2nd ed., section 3.3) carried beside the reference's own float64 values.
# Every quantity of a step (a moment, a bias correction, the learning rate, a variable) is a
# `Carried`: the exact value of the documented formula on the exact values before it, and a bound
# on how far an implementation's own value of it may be, given the bounds of its operands and the
# rounding of the operation itself. The model of one rounding (rounding.py): fl(a op b) =
# (a op b)(1 + d), |d| <= u, plus what a result below the normal range may lose (`underflow`).
#
# The rules are made of elementwise operations and a few reductions (norms, means), so each
# element's bound is a short composition of these, each exact in the operands' errors (not only
# to first order):
#   a + b, a - b     e_a + e_b + u (|a| + e_a + |b| + e_b) + f
#                    (u times the magnitudes, not the result: the cancellation in w - lr * step
#                    keeps u (|w| + |lr step|), and so does any rearranged order of the sum);
#                    no rounding where Sterbenz's lemma makes it exact (1 - beta^t, beta^t >= 1/2)
#   a * b            |a| e_b + |b| e_a + e_a e_b + u (|a| + e_a)(|b| + e_b) + f
#   a / b            (e_a + |a / b| e_b) / (|b| - e_b) + u (|a| + e_a) / (|b| - e_b) + f, and no
#                    bound (inf) where |b| <= e_b: the exact |(a + x)/(b + y) - a/b| = |x b - a y| /
#                    |b (b + y)|; the division by sqrt(v) + epsilon amplifies here, at tiny v.
#                    |b| - e_b is replaced by a known floor where there is one: rounding is
#                    monotone, so fl(s + epsilon) >= epsilon for any s >= 0 (`Carried.floor`)
#   sqrt(a)          the secant: max(sqrt(a) - sqrt(max(a - e_a, 0)), sqrt(a + e_a) - sqrt(a))
#                    + u sqrt(a + e_a) + f (sqrt is correctly rounded)
#   max, min, |a|    the larger operand error (each is 1-Lipschitz); sign(a) is exact where
#                    |a| > e_a, else it may be any of -1, 0, 1
#   x^y, cos, ...    the largest move over the operands' intervals (their corners: x^y is monotone
#                    in each) + LIBRARY_ULPS ulps of a math library (2 u |y| each; in a 16-bit
#                    format one rounding of a float32 evaluation, `_library_relative`) + f
#   sums of K terms  sum e_i + gamma_{K-1} sum (|x_i| + e_i) + (K - 1) f, in any order (Higham
#                    (3.5)); a mean of n: gamma_n; a norm: the sum of squares, then sqrt
# f is `underflow(fmt)`. A hyperparameter (a decay rate, epsilon, a learning rate) is `constant`:
# the reference holds it as the case dtype rounds it; an implementation may round it through
# another format first (a float32 learning-rate variable cast to float16), one unit (2u relative)
# off in a tie, and a constant below the normal range may be flushed.
# A moving average b * old + (1 - b) * new (the moments, the EMA) is `average`, sound for both
# orders implementations use: b old + (1 - b) new, and old + (1 - b)(new - old) (which cancels in
# new - old), and for 1 - b computed from the rounded b or rounded from the exact 1 - b: they
# differ by up to ulp(b)/2 + ulp(1 - b)/2, absolute. That term is what makes Adam's
# v = b2 v + (1 - b2) g^2 uncertain by ulp(b2)/2 g^2: relative to its (1 - b2) g^2, 500 u in
# float32 at the default beta_2 (tf.keras's float32(1 - 0.999) is 215 u off 1 - float32(0.999)).
# Products and quotients chain without cancellation, so their relative errors add in any order of
# evaluation; where a quotient follows products, the products are taken first, the order in which
# an intermediate lost below the normal range is divided by the smallest denominator.
# A step's bound is then propagated to the next step: the slots and the variable carry their
# bounds (the implementation continues from its own values).

LIBRARY_ULPS = 2.0  # pow, exp, log, cos of a math library: within 2 ulps each (README: 1 to 2)


def underflow(fmt) -> float:
    """What one rounding may lose below the normal range of `fmt`. float32, bfloat16 and float64:
    the smallest normal number (TensorFlow flushes subnormal results to zero on CPU). float16:
    half the subnormal spacing. Its arithmetic runs through float32, whose flush threshold
    (1.2e-38) lies far below float16's subnormals (6e-8 and up), and the conversion back rounds
    gradually: fl16(1e-3 * 1e-2) = 1e-5 (subnormal) in TensorFlow 2.21."""
    if fmt.smallest_normal > 2.0 ** -126:
        return fmt.subnormal_spacing / 2
    return fmt.smallest_normal


class Carried:
    """A quantity of a step: `value` (float64, the exact formula on the exact values before it)
    and `error`, a bound on how far an implementation's value of it may be from `value`.
    Arithmetic with another Carried or a number (an exact one) follows the table above."""

    __slots__ = ("value", "error", "fmt", "floor")

    def __init__(self, value, error, fmt, floor=None):
        self.value = np.asarray(value, np.float64)
        self.error = np.asarray(error, np.float64)
        self.fmt = fmt
        # a lower bound on the implementation's value where it is known to be >= 0 (None: only
        # value - error): rounding is monotone, so fl(s + epsilon) >= epsilon for s >= 0 however
        # far s is off, which keeps sqrt(v) + epsilon away from 0 at a v lost to rounding
        self.floor = None if floor is None else np.asarray(floor, np.float64)

    # helpers
    @property
    def u(self):
        return self.fmt.unit_roundoff

    @property
    def f(self):
        return underflow(self.fmt)

    @property
    def least(self):
        """A lower bound on |the implementation's value| (0 where it may vanish)."""
        low = np.maximum(np.abs(self.value) - self.error, 0.0)
        return low if self.floor is None else np.maximum(low, self.floor)

    @property
    def magnitude(self):
        """An upper bound on |the implementation's value|."""
        return np.abs(self.value) + self.error

    def _lift(self, other):
        return other if isinstance(other, Carried) else Carried(other, 0.0, self.fmt)

    def _new(self, value, error):
        with np.errstate(invalid="ignore"):
            error = np.where(np.isnan(error), np.inf, error)
        return Carried(value, error, self.fmt)

    # arithmetic
    def __add__(self, other):
        o = self._lift(other)
        out = self._new(self.value + o.value, self.error + o.error + (self.u * (self.magnitude + o.magnitude) + self.f)
                        * ~_sterbenz(self, o))
        nonnegative = _nonnegative(self) & _nonnegative(o)
        if np.any(nonnegative):  # fl(a + b) >= max(a, b) for a, b >= 0
            out.floor = np.where(nonnegative, np.maximum(self.least, o.least), 0.0)
        return out

    __radd__ = __add__

    def __neg__(self):
        return Carried(-self.value, self.error, self.fmt)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        o = self._lift(other)
        error = (np.abs(self.value) * o.error + np.abs(o.value) * self.error + self.error * o.error
                 + self.u * self.magnitude * o.magnitude + self.f)
        return self._new(self.value * o.value, error)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(np.abs(o.value) - o.error > 0, np.abs(o.value) - o.error, o.least)
            value = self.value / o.value
            error = np.where(low > 0, (self.error + np.abs(value) * o.error + self.u * self.magnitude) / np.where(low > 0, low, 1.0)
                             + self.f, np.inf)
        return self._new(value, error)

    def __rtruediv__(self, other):
        return self._lift(other) / self


def _sterbenz(a: Carried, b: Carried):
    """Where a + b is exact (Sterbenz's lemma, Higham Theorem 2.5): a and b of opposite signs
    with |b| / 2 <= |a| <= 2 |b| for every value within their errors (1 - beta^t for beta^t in
    [0.5, 1]: no rounding at all)."""
    a_low, b_low = np.abs(a.value) - a.error, np.abs(b.value) - b.error
    return ((np.sign(a.value) * np.sign(b.value) < 0) & (a_low > 0) & (b_low > 0)
            & (a.magnitude <= 2 * b_low) & (b.magnitude <= 2 * a_low))


def _nonnegative(a: Carried):
    """Where the implementation's value is certainly >= 0."""
    return (a.value - a.error >= 0) | ((a.floor is not None) & (a.value >= 0))


def constant(c, fmt, *, through_float32=False) -> Carried:
    """A hyperparameter as the reference holds it (rounded to the case dtype): an implementation
    rounds it once, as the reference did, the same number. One held as a float32 first
    (`through_float32`: tf.keras's learning rate is a float32 variable, cast to a 16-bit
    variable's dtype; a schedule's numbers) rounds twice in a 16-bit format: one unit (2u
    relative) off in a tie. Below the normal range it may be flushed to zero where the platform
    flushes (`underflow`; not float16, whose subnormals survive: Adam's default epsilon 1e-7 is
    the float16 subnormal 1.19e-7)."""
    c = np.asarray(c, np.float64)
    slack = 2 * fmt.unit_roundoff if through_float32 and fmt.precision < 24 else 0.0
    flushes = underflow(fmt) >= fmt.smallest_normal
    return Carried(c, slack * np.abs(c) + np.where(flushes & (np.abs(c) < fmt.smallest_normal), np.abs(c), 0.0), fmt)


def exact(x, fmt) -> Carried:
    """A value both sides hold exactly (the gradients, the starting variables and slots)."""
    return Carried(np.asarray(x, np.float64), 0.0, fmt)


def sqrt(a: Carried) -> Carried:
    value = np.sqrt(np.maximum(a.value, 0.0))
    low = np.sqrt(np.maximum(a.value - a.error, 0.0))
    high = np.sqrt(np.maximum(a.value, 0.0) + a.error)
    out = a._new(value, np.maximum(value - low, high - value) + a.u * high + a.f)
    # a root is >= 0, and fl(sqrt(x)) >= sqrt(floor) (1 - u), rounding being monotone
    out.floor = np.zeros_like(value) if a.floor is None else np.sqrt(np.maximum(a.floor, 0.0)) * (1 - a.u)
    return out


def maximum(a: Carried, b) -> Carried:
    b = a._lift(b)
    return a._new(np.maximum(a.value, b.value), np.maximum(a.error, b.error))


def minimum(a: Carried, b) -> Carried:
    b = a._lift(b)
    return a._new(np.minimum(a.value, b.value), np.maximum(a.error, b.error))


def absolute(a: Carried) -> Carried:
    return Carried(np.abs(a.value), a.error, a.fmt)


def sign(a: Carried) -> Carried:
    """Exact where |a| > e_a; else an implementation may find any of -1, 0, 1."""
    s = np.sign(a.value)
    return a._new(s, np.where(np.abs(a.value) > a.error, 0.0, 1.0 + np.abs(s)))


def library(a: Carried, function, monotone=True) -> Carried:
    """function(a) of a math library (exp, log, cos): the move over [a - e_a, a + e_a] (the ends
    for a monotone function, else |f'| <= 1 times e_a: cos) + LIBRARY_ULPS ulps + f."""
    with np.errstate(all="ignore"):
        value = function(a.value)
        if monotone:
            move = np.maximum(np.abs(function(a.value - a.error) - value), np.abs(function(a.value + a.error) - value))
        else:
            move = a.error
        top = np.abs(value) + move
        return a._new(value, move + _library_relative(np.nan, a.fmt) * top + a.f)


def power(x: Carried, y) -> Carried:
    """x ** y for x > 0 (a bias correction's beta^t, Ftrl's n^-p, Adafactor's t^decay): x^y is
    monotone in x and in y, so it moves most at a corner of the operands' intervals; plus the
    library's ulps, or gamma_{y-1} for an integer y taken by repeated multiplication."""
    y = x._lift(y)
    with np.errstate(all="ignore"):
        value = np.power(x.value, y.value)
        xs = (np.maximum(x.value - x.error, 0.0), x.value + x.error)
        ys = (y.value - y.error, y.value + y.error)
        corners = [np.power(a, b) for a in xs for b in ys]
        move = np.max([np.abs(c - value) for c in corners], axis=0)
        top = np.abs(value) + move
        steps = np.maximum(np.abs(y.value) - 1, 0.0)
        by_product = np.where(steps * x.u < 0.5, steps * x.u / (1 - np.minimum(steps * x.u, 0.5)), np.inf)
        relative = np.maximum(_library_relative(value, x.fmt), np.where(y.value == np.round(y.value), by_product, 0.0))
        return x._new(value, move + relative * top + x.f)


def _library_relative(value, fmt):
    """The relative error of a math library's function in `fmt`: LIBRARY_ULPS ulps (2 u each) in
    float32 and float64. A 16-bit format's functions are evaluated in float32 and rounded once
    (TensorFlow's and XLA's CPU kernels, NumPy's through ml_dtypes): u + 4 LIBRARY_ULPS 2^-24,
    and 0 where the exact result is a number of the format (2 float32 ulps from it round back to it:
    beta^1)."""
    if fmt.precision >= 24:
        return 2 * LIBRARY_ULPS * fmt.unit_roundoff
    value = np.asarray(value, np.float64)
    spacing = rounding.ulp(value, fmt)
    with np.errstate(all="ignore"):
        representable = np.isfinite(value) & (np.round(value / spacing) * spacing == value)
    return np.where(representable, 0.0, fmt.unit_roundoff + 4 * LIBRARY_ULPS * 2.0 ** -24)


def rounded(a: Carried) -> Carried:
    """a stored in the format (a float32 learning rate cast to float16): one rounding."""
    return a._new(a.value, a.error + a.u * a.magnitude + a.f)


def total(*terms) -> Carried:
    """A sum of K terms in any order: sum e_i + gamma_{K-1} sum (|x_i| + e_i) + (K - 1) f."""
    first = next(t for t in terms if isinstance(t, Carried))
    terms = [first._lift(t) for t in terms]
    k = len(terms) - 1
    magnitude = sum(t.magnitude for t in terms)
    value = sum(t.value for t in terms)
    return first._new(value, sum(t.error for t in terms) + rounding.gamma(k, first.u) * magnitude + k * first.f)


def mean(a: Carried, axis=None) -> Carried:
    """The mean of n elements (along `axis`, keeping no dimension): a sum of n in any order, then
    one division (or n divisions first): mean(e) + gamma_{n+1} mean(|a| + e) + 2 f."""
    n = a.value.size if axis is None else a.value.shape[axis]
    error = np.broadcast_to(a.error, a.value.shape)
    return a._new(np.mean(a.value, axis=axis),
                  np.mean(error, axis=axis) + rounding.gamma(n + 1, a.u) * np.mean(np.abs(a.value) + error, axis=axis) + 2 * a.f)


def norm(a: Carried) -> Carried:
    """||a||_2 over the whole tensor: sqrt of the sum of the squares (any order)."""
    squares = a * a
    n = a.value.size
    error = np.broadcast_to(squares.error, squares.value.shape)
    gamma = rounding.gamma(max(n - 1, 1), a.u)
    s = a._new(np.sum(squares.value), np.sum(error) + gamma * np.sum(np.abs(squares.value) + error) + n * a.f)
    # the sum of squares is at least that of the elements' own lower bounds, rounded down
    s.floor = np.maximum(np.sum(a.least ** 2) * (1 - a.u) * (1 - gamma) - n * a.f, 0.0)
    return sqrt(s)


def average(b, old: Carried, new, *, scaled=False) -> Carried:
    """b * old + (1 - b) * new, b a constant or a Carried in [0, 1], c = 1 - b. Implementations
    evaluate it as b old + c new, or as old + c (new - old) (which cancels in new - old), with
    c rounded from 1 - b or 1 - (the rounded b); the reference holds b rounded to the format. So:
      |b| e_old + |c| e_new                       the operands' errors (either order)
      + (e_b + d)(|old| + |new|)                  the weights' own: b as held, and c off from the
                                                  reference's 1 - b by d = ulp(b)/2 + ulp(c)/2
                                                  (the exact b behind the rounded one, and the
                                                  rounding of 1 - b)
      + gamma_2 (c (|old| + |new|) + b |old| + |result|) + 3 f
                                                  the roundings: b old, c new and the sum (first
                                                  order), or new - old and its product by c, each
                                                  of at most c (|old| + |new|), and the sum
    with |old|, |new|, |result| the magnitudes with their errors. That d is what makes Adam's
    v = b2 v + (1 - b2) g^2 uncertain by ulp(b2) / 2 g^2: relative to (1 - b2) g^2, 500 u in
    float32 at the default beta_2, a quarter in float16 (1 - fl16(0.999) is 2.4% off 0.001).

    scaled: the average up to a common factor instead, ~x = x' / (1 + s) with c' = c (1 + s) the
    implementation's c: ~x follows the same recursion with the reference's c and an old weight off
    by at most e_b + d, so that term is (e_b + d)|old| only. One implementation uses one c' at
    every step, so s is common to every element and every step (LAMB's direction r / ||r||
    does not see it)."""
    fmt = old.fmt
    b = old._lift(b) if isinstance(b, Carried) else constant(b, fmt)
    new = old._lift(new)
    c = 1 - b.value
    value = b.value * old.value + c * new.value
    d = rounding.ulp(b.value, fmt) / 2 + rounding.ulp(c, fmt) / 2
    magnitude = old.magnitude + new.magnitude
    weight_old, weight_new = np.abs(b.value) + b.error, np.abs(c) + b.error + d
    roundings = weight_new * magnitude + weight_old * old.magnitude + np.abs(value) + (weight_old * old.error + weight_new * new.error)
    weights = (b.error + d) * (old.magnitude if scaled else magnitude)
    error = (np.abs(b.value) * old.error + np.abs(c) * new.error + weights
             + rounding.gamma(2, old.u) * roundings + 3 * old.f)
    return old._new(value, error)


def _common_scale(b: float, fmt) -> float:
    """|s| of `average(scaled=True)`: how far the implementation's 1 - b may be off the
    reference's, relative: d / (1 - b)."""
    c = 1 - b
    return float((rounding.ulp(b, fmt) / 2 + rounding.ulp(c, fmt) / 2) / c) if c > 0 else np.inf


# --- the learning rate and the base step, carried ---------------------------------------------

def _schedule_carried(identifier: dict, step: int, fmt) -> Carried:
    """`schedule` in the format: every config number a `constant`, every operation rounded, the
    step (an integer below 2^24) exact, step / decay_steps one rounding and its staircase floor
    exact (`_step_fraction`). A period of CosineDecayRestarts whose start is the step may be
    found on either side (the jump is the error there). The result is stored once more in the format (`rounded`: tf.keras computes a
    schedule in float32 and casts it to a 16-bit variable's dtype)."""
    name, c = identifier["class_name"], identifier.get("config", {})
    k = lambda v: constant(v, fmt, through_float32=True)  # noqa: E731
    s = exact(float(step), fmt)
    if name == "ExponentialDecay":
        p = _step_fraction(step, c["decay_steps"], fmt, c.get("staircase"))
        lr = k(c["initial_learning_rate"]) * power(k(c["decay_rate"]), p)
    elif name == "PiecewiseConstantDecay":
        boundaries, values = c["boundaries"], c["values"]
        lr = k(values[int(np.searchsorted(boundaries, step, side="left"))])
    elif name == "PolynomialDecay":
        d, end = c["decay_steps"], c.get("end_learning_rate", 0.0001)
        if c.get("cycle"):
            d, s_ = d * max(1, math.ceil(step / d)), s
        else:
            s_ = exact(float(min(step, d)), fmt)
        lr = (k(c["initial_learning_rate"]) - k(end)) * power(1 - s_ / float(d), k(c.get("power", 1.0))) + k(end)
    elif name == "InverseTimeDecay":
        p = _step_fraction(step, c["decay_steps"], fmt, c.get("staircase"))
        lr = k(c["initial_learning_rate"]) / (1 + k(c["decay_rate"]) * p)
    elif name == "CosineDecay":
        initial, alpha, d = k(c["initial_learning_rate"]), k(c.get("alpha", 0.0)), c["decay_steps"]
        warmup, target = c.get("warmup_steps", 0), c.get("warmup_target")
        if target is not None and warmup > 0:
            if step < warmup:
                return rounded(initial + s / float(warmup) * (k(target) - initial))
            initial, s = k(target), exact(float(step - warmup), fmt)
        s = minimum(s, float(d))
        cos = library(k(math.pi) * s / float(d), np.cos, monotone=False)
        lr = initial * ((1 - alpha) * 0.5 * (1 + cos) + alpha)
    elif name == "CosineDecayRestarts":
        lr = _restarts_carried(c, step, fmt)
    else:
        raise ValueError(f"unknown learning-rate schedule {name!r}")
    return rounded(lr)


def _step_fraction(step: int, steps: int, fmt, staircase=False) -> Carried:
    """step / steps, two integers below 1 / u: one rounding, u relative, never below the normal
    range (0 or at least 1 / steps); floored (staircase) it is exact, for the rounded quotient
    never crosses an integer: s / D in (k, k + 1) is at least 1 / D below k + 1, and the
    rounding moves it by at most u s / D < 1 / D."""
    value = step / steps
    if staircase:
        return exact(float(math.floor(value)), fmt)
    return Carried(value, fmt.unit_roundoff * value, fmt)


def _restarts_carried(c: dict, step: int, fmt) -> Carried:
    """CosineDecayRestarts: the period i and the completed fraction f as `schedule` finds them;
    an implementation finds i from logarithms, so at a step on a period's start (f = 0) it may
    find the end of the previous period (f = 1) instead: that jump is the error there."""
    k = lambda v: constant(v, fmt, through_float32=True)  # noqa: E731
    initial, first = k(c["initial_learning_rate"]), c["first_decay_steps"]
    t_mul, m_mul, alpha = c.get("t_mul", 2.0), c.get("m_mul", 1.0), c.get("alpha", 0.0)

    def at(i, start, length):
        f = (exact(float(step), fmt) - start) / length
        cos = library(k(math.pi) * f, np.cos, monotone=False)
        return initial * (power(k(m_mul), float(i)) * (1 - k(alpha)) * 0.5 * (1 + cos) + k(alpha))

    start, length, i = 0.0, float(first), 0
    previous = None
    while step >= start + length:
        previous = (i, start, length)
        start, length, i = start + length, length * t_mul, i + 1
    lr = at(i, start, length)
    if previous is not None and abs(step - start) <= 8 * fmt.unit_roundoff * max(step, 1):
        other = at(*previous)
        lr = lr._new(lr.value, np.maximum(lr.error, np.abs(other.value - lr.value) + other.error))
    return lr


def learning_rate_carried(value, step: int, fmt) -> Carried:
    return _schedule_carried(value, step, fmt) if isinstance(value, dict) else constant(float(value), fmt, through_float32=True)


def _mean_of_gradients(grads: list, fmt) -> Carried:
    """The mean of k accumulated gradients, as a sum then a division (gamma_k of their
    magnitudes over k) or as a running mean a + (g - a) / j (three roundings a step, each of
    at most twice the largest magnitude: gamma_{6k} of it), whichever is larger."""
    k = len(grads)
    if k == 1:
        return grads[0]
    magnitudes = np.stack([np.broadcast_to(g.magnitude, g.value.shape) for g in grads])
    errors = np.stack([np.broadcast_to(g.error, g.value.shape) for g in grads])
    u = grads[0].u
    error = (errors.mean(axis=0) + np.maximum(rounding.gamma(k + 1, u) * magnitudes.mean(axis=0),
                                              rounding.gamma(6 * k, u) * magnitudes.max(axis=0)) + 3 * k * grads[0].f)
    return grads[0]._new(np.mean([g.value for g in grads], axis=0), error)


def _clip_carried(grads: dict, p: dict, fmt) -> dict:
    """Step 2: g * min(1, c / ||g||) (any order of the product and the quotient), the global
    norm over every gradient, clip(g, -c, c) (1-Lipschitz in g and in c)."""
    if p["clipnorm"] is not None:
        grads = {n: g * minimum(constant(p["clipnorm"], fmt) / norm(g), 1.0) for n, g in grads.items()}
    if p["global_clipnorm"] is not None:
        squares = [g * g for g in grads.values()]
        n = sum(s.value.size for s in squares)
        magnitude = sum(float(np.sum(np.abs(s.value) + np.broadcast_to(s.error, s.value.shape))) for s in squares)
        first = next(iter(grads.values()))
        s = Carried(sum(float(np.sum(sq.value)) for sq in squares),
                    sum(float(np.sum(np.broadcast_to(sq.error, sq.value.shape))) for sq in squares)
                    + rounding.gamma(max(n - 1, 1), fmt.unit_roundoff) * magnitude + n * first.f, fmt)
        factor = minimum(constant(p["global_clipnorm"], fmt) / sqrt(s), 1.0)
        grads = {n_: g * factor for n_, g in grads.items()}
    if p["clipvalue"] is not None:
        c = p["clipvalue"]
        slack = 2 * fmt.unit_roundoff * c
        grads = {n: g._new(np.clip(g.value, -c, c), g.error + np.where(np.abs(g.value) + g.error >= c * (1 - 2 * fmt.unit_roundoff), slack, 0.0))
                 for n, g in grads.items()}
    return grads


def _decay_carried(w: Carried, lr: Carried, wd: float) -> Carried:
    """w - lr * wd * w, or w * (1 - lr * wd): e_w (1 + lr wd) + wd |w| e_lr + (the constant wd)
    + gamma_3 (1 + lr wd)|w| (three roundings of at most that magnitude in either order) + 3 f."""
    fmt = w.fmt
    wd_c = constant(wd, fmt)
    rate = lr * wd_c  # lr * wd with its errors and rounding
    factor = np.abs(rate.value) + rate.error
    value = w.value - rate.value * w.value
    error = (w.error * (1 + factor) + np.abs(w.value) * rate.error
             + rounding.gamma(3, fmt.unit_roundoff) * (1 + factor) * w.magnitude + 3 * w.f)
    return w._new(value, error)


# --- the update rules, carried: each rule of RULES again, on Carried quantities -------------
# Each bound rule(w, g, s, lr, t, p) -> (new w, new slots), all Carried (lr too; t an int).

def _sgd_bound(w, g, s, lr, t, p):
    """w - lr g; velocity = momentum * velocity - lr g, w + velocity, or with nesterov
    w + momentum * velocity - lr g: sums of two or three terms in any order (`total`)."""
    if p["momentum"] == 0:
        return w - lr * g, s
    momentum = constant(p["momentum"], w.fmt)
    v = total(momentum * s["velocity"], -(lr * g))
    return (total(w, momentum * v, -(lr * g)) if p["nesterov"] else w + v), {"velocity": v}


def _rmsprop_bound(w, g, s, lr, t, p):
    """v = average(rho, v, g^2); centered: mg = average(rho, mg, g) and v - mg^2 (it cancels:
    u (|v| + mg^2)); step = lr g / (sqrt(.) + epsilon); momentum: mom = m mom + step, w - mom."""
    rho = p["rho"]
    v = average(rho, s["velocity"], g * g)
    out = {"velocity": v}
    denominator = v
    if p["centered"]:
        mg = average(rho, s["average_gradient"], g)
        out["average_gradient"] = mg
        denominator = v - mg * mg
    step = (lr * g) / (sqrt(denominator) + constant(p["epsilon"], w.fmt))
    if p["momentum"] > 0:
        mom = total(constant(p["momentum"], w.fmt) * s["momentum"], step)
        out["momentum"] = mom
        return w - mom, out
    return w - step, out


def _adam_bound(w, g, s, lr, t, p):
    """m = average(b1, m, g), v = average(b2, v, g^2), amsgrad v_hat = max(v_hat, v) (as
    exact as its operands), alpha = lr sqrt(1 - b2^t) / (1 - b1^t) (b^t by `power`: the rounded
    b's own error grows t times; 1 - b^t cancels: u (1 + b^t) absolute, u (1 + b^t) / (1 - b^t)
    relative, the secant of sqrt over it), w - (alpha m) / (sqrt(v) + epsilon)."""
    fmt = w.fmt
    b1, b2 = constant(p["beta_1"], fmt), constant(p["beta_2"], fmt)
    m = average(p["beta_1"], s["m"], g)
    v = average(p["beta_2"], s["v"], g * g)
    out = {"m": m, "v": v}
    second = v
    if p["amsgrad"]:
        second = maximum(s["v_hat"], v)
        out["v_hat"] = second
    alpha = lr * sqrt(1 - power(b2, float(t))) / (1 - power(b1, float(t)))
    return w - (alpha * m) / (sqrt(second) + constant(p["epsilon"], fmt)), out


def _adamax_bound(w, g, s, lr, t, p):
    """m = average(b1, m, g), u = max(b2 u, |g|), w - lr / (1 - b1^t) * m / (u + epsilon)."""
    fmt = w.fmt
    m = average(p["beta_1"], s["m"], g)
    u = maximum(constant(p["beta_2"], fmt) * s["u"], absolute(g))
    step = (lr * m) / ((1 - power(constant(p["beta_1"], fmt), float(t))) * (u + constant(p["epsilon"], fmt)))
    return w - step, {"m": m, "u": u}


def _nadam_bound(w, g, s, lr, t, p):
    """Dozat's mu_t = b1 (1 - 0.5 * 0.96^(0.004 t)) by `power`, the running product a slot,
    m_hat = mu_{t+1} m / (1 - prod mu_{t+1}) + (1 - mu_t) g / (1 - prod) (a sum of two),
    v_hat = v / (1 - b2^t), w - lr m_hat / (sqrt(v_hat) + epsilon)."""
    fmt = w.fmt
    b1 = constant(p["beta_1"], fmt)

    def mu(step):
        return b1 * (1 - 0.5 * power(constant(0.96, fmt), exact(float(step), fmt) * constant(0.004, fmt)))

    mu_t, mu_next = mu(t), mu(t + 1)
    product = s["mu_product"] * mu_t
    m = average(p["beta_1"], s["m"], g)
    v = average(p["beta_2"], s["v"], g * g)
    m_hat = total((mu_next * m) / (1 - product * mu_next), ((1 - mu_t) * g) / (1 - product))
    v_hat = v / _second_bias_correction(p, t, fmt)
    return w - (lr * m_hat) / (sqrt(v_hat) + constant(p["epsilon"], fmt)), {"m": m, "v": v, "mu_product": product}


def _second_bias_correction(p, t, fmt) -> Carried:
    """1 - beta_2^t where it divides the second moment (Nadam's and Lamb's v / (1 - beta_2^t)). Where
    it may be 0 in the format (beta_2 = 0.999 is 1 in bfloat16) the quotient is 0 / 0 or v / 0 in
    any evaluation of the formula, and the reference gives its limit (`_bias_corrected`): no
    evaluation in the format is bounded near it, so there is no bound (a ValueError, as for a
    gamma_K that bounds nothing)."""
    c2 = 1 - power(constant(p["beta_2"], fmt), float(t))
    if not c2.value - c2.error > 0:
        raise ValueError(f"1 - beta_2^t may be 0 in the format at beta_2={p['beta_2']!r}, t={t}")
    return c2


def _adagrad_bound(w, g, s, lr, t, p):
    """a = a + g^2, w - lr g / sqrt(a + epsilon)."""
    a = s["accumulator"] + g * g
    return w - (lr * g) / sqrt(a + constant(p["epsilon"], w.fmt)), {"accumulator": a}


def _adadelta_bound(w, g, s, lr, t, p):
    """E[g^2] = average(rho, ., g^2), dx = -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) g (or the
    root of the quotient: fewer roundings), E[dx^2] = average(rho, ., dx^2), w + lr dx."""
    fmt = w.fmt
    eps = constant(p["epsilon"], fmt)
    eg = average(p["rho"], s["accumulated_grad"], g * g)
    dx = -((sqrt(s["accumulated_delta"] + eps) * g) / sqrt(eg + eps))
    ed = average(p["rho"], s["accumulated_delta"], dx * dx)
    return w + lr * dx, {"accumulated_grad": eg, "accumulated_delta": ed}


def _ftrl_bound(w, g, s, lr, t, p):
    """n = n + g^2; sigma = (n^q - n_prev^q) / lr (q = -learning_rate_power; the difference
    cancels: u (n^q + n_prev^q)); z = z + g + 2 l2s w - sigma w (a sum of four); then
    w = -sign(z) max(|z| - l1, 0) / ((beta + n^q) / lr + l2), the documented (sign(z) l1 - z) / .
    where |z| >= l1 and 0 elsewhere, which is continuous in z (1-Lipschitz before the division):
    near |z| = l1 either branch lands within e_z + e_l1 of 0."""
    fmt = w.fmt
    q = -p["learning_rate_power"]
    n = s["n"] + g * g
    sigma = (power(n, q) - power(s["n"], q)) / lr
    z = total(s["z"], g, constant(2 * p["l2_shrinkage_regularization_strength"], fmt) * w, -(sigma * w))
    l1 = constant(p["l1_regularization_strength"], fmt)
    shrunk = maximum(absolute(z) - l1, 0.0)
    numerator = sign(z) * shrunk
    # where the sign is uncertain (|z| <= e_z) both sides are within the shrunk magnitude of 0
    numerator = numerator._new(-numerator.value, np.where(np.abs(z.value) > z.error, numerator.error,
                                                          shrunk.magnitude + np.abs(shrunk.value)))
    denominator = (constant(p["beta"], fmt) + power(n, q)) / lr + constant(p["l2_regularization_strength"], fmt)
    return numerator / denominator, {"n": n, "z": z}


def _lion_bound(w, g, s, lr, t, p):
    """c = average(b1, m, g), w - lr sign(c) (sign exact unless |c| <= e_c: then up to 2 lr),
    m = average(b2, m, g)."""
    c = average(p["beta_1"], s["m"], g)
    return w - lr * sign(c), {"m": average(p["beta_2"], s["m"], g)}


def _lamb_bound(w, g, s, lr, t, p):
    """m, v as Adam's (the slots); r = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon), and
    w - lr ||w|| r / ||r||, the trust ratio's norms over the whole variable.

    The step sees r only up to a common factor: the implementation's m, v are the reference's
    recursion with its own 1 - b1, 1 - b2, common to every element and step (`average`,
    scaled: their own slots "~m", "~v"), and its bias corrections are scalars; all of those
    factor out of r / ||r|| but where they scale sqrt(v_hat) against epsilon:
    r' = k m~ / (sqrt(v~ / c2) + epsilon / S) with S = sqrt((1 + s2) c2' / c2) (s2 the common
    scale of v, c2' the implementation's 1 - b2^t), so epsilon counts with the relative error of
    S. The direction u = r / ||r|| then bounds as a quotient (its numerator's and norm's errors
    taken independently), and w - (lr ||w||) u. No bound where ||r|| may be 0."""
    fmt = w.fmt
    b1 = constant(p["beta_1"], fmt)
    m = average(p["beta_1"], s["m"], g)
    v = average(p["beta_2"], s["v"], g * g)
    m_scaled = average(p["beta_1"], s.get("~m", s["m"]), g, scaled=True)
    v_scaled = average(p["beta_2"], s.get("~v", s["v"]), g * g, scaled=True)
    c1, c2 = 1 - power(b1, float(t)), _second_bias_correction(p, t, fmt)
    # S = sqrt((1 + s2) c2' / c2): its relative error, from the common scale and c2's own
    spread = (1 + _common_scale(p["beta_2"], fmt)) * (1 + float(c2.error / (c2.value - c2.error)))
    epsilon = constant(p["epsilon"], fmt)
    epsilon = epsilon._new(epsilon.value, epsilon.error + (np.sqrt(spread) - 1) * epsilon.magnitude)
    exact_c1, exact_c2 = exact(c1.value, fmt), exact(c2.value, fmt)
    r = (m_scaled / exact_c1) / (sqrt(v_scaled / exact_c2) + epsilon)
    slots = {"m": m, "v": v, "~m": m_scaled, "~v": v_scaled}
    rn = norm(r)
    if not rn.least > 0 or not w.value.size:
        return w._new(w.value - lr.value * np.linalg.norm(w.value) * r.value / max(rn.value, 1e-300), np.inf), slots
    direction = r / rn
    # an element of a unit vector: whatever r is, |u_i| <= ||u|| <= 1 + gamma_{n+2} (the norm's
    # and the quotient's roundings), so it is off by at most that plus |u_i|
    cap = np.abs(direction.value) + 1 + rounding.gamma(r.value.size + 2, w.u)
    direction = direction._new(direction.value, np.minimum(direction.error, cap))
    return w - (lr * norm(w)) * direction, slots


def _adafactor_bound(w, g, s, lr, t, p):
    """decay = 1 - t^beta_2_decay (`power`), the step size min(lr, 1 / sqrt(t)), alpha =
    max(epsilon_2, RMS(w)) * step (RMS a mean of squares, then sqrt), g2 = g^2 + epsilon_1;
    factored: r = average(decay, r, mean_last(g2)), c = average(decay, c, mean_second_last(g2)),
    v = r c / mean_last(r); else v = average(decay, v, g2); u = g / sqrt(v), u / max(1, RMS(u) /
    clip_threshold), w - alpha u."""
    fmt = w.fmt
    decay = 1 - power(exact(float(t), fmt), constant(p["beta_2_decay"], fmt))
    step = minimum(lr, 1 / sqrt(exact(float(t), fmt))) if p["relative_step"] else lr
    alpha = maximum(sqrt(mean(w * w)), constant(p["epsilon_2"], fmt)) * step
    g2 = g * g + constant(p["epsilon_1"], fmt)
    if w.value.ndim >= 2:
        r = average(decay, s["r"], mean(g2, axis=-1))
        c = average(decay, s["c"], mean(g2, axis=-2))
        r_mean = mean(r, axis=-1)
        v = (_expand(r, -1) * _expand(c, -2)) / _expand(r_mean, (-1, -2))
        out = {"r": r, "c": c}
    else:
        v = average(decay, s["v"], g2)
        out = {"v": v}
    u = g / sqrt(v)
    u = u / maximum(sqrt(mean(u * u)) / constant(p["clip_threshold"], fmt), 1.0)
    return w - alpha * u, out


def _expand(a: Carried, axes) -> Carried:
    return Carried(np.expand_dims(a.value, axes), np.expand_dims(np.broadcast_to(a.error, a.value.shape), axes), a.fmt)


def _schedule_free_adamw_bound(w, g, s, lr, t, p):
    """v = average(b2, v, g^2), gamma = lr sqrt(1 - b2^t) min(1, t / warmup), z = z -
    gamma g / (sqrt(v) + eps) - gamma wd y (a sum of three), the weight sum + gamma^2,
    c = gamma^2 / sum, x = average(1 - c, x, z), y = average(b1, x, z)."""
    fmt = w.fmt
    v = average(p["beta_2"], s["v"], g * g)
    gamma = lr * sqrt(1 - power(constant(p["beta_2"], fmt), float(t)))
    if p["warmup_steps"]:
        gamma = gamma * minimum(exact(float(t), fmt) / float(p["warmup_steps"]), 1.0)
    z = total(s["z"], -((gamma * g) / (sqrt(v) + constant(p["epsilon"], fmt))),
              -(gamma * constant(p["weight_decay"] or 0.0, fmt) * w))
    square = gamma * gamma
    weight_sum = s["weight_sum"] + square
    c = _share(square, s["weight_sum"])
    x = average(1 - c, s["x"], z)
    return average(p["beta_1"], x, z), {"z": z, "x": x, "v": v, "weight_sum": weight_sum}


def _share(a: Carried, before: Carried) -> Carried:
    """a / (before + a) for a, before >= 0: increasing in a and decreasing in before, so it
    moves most at the corners of their intervals (the same a above and below the line, which a
    quotient of two separate quantities would lose: at the first step it is 1 whatever a's
    error), plus the sum's and the quotient's roundings, gamma_2."""
    def share(x, y):
        with np.errstate(all="ignore"):
            return np.where(x + y > 0, x / np.where(x + y > 0, x + y, 1.0), 0.0)
    value = share(a.value, before.value)
    a_low, a_high = np.maximum(a.value - a.error, 0.0), a.value + a.error
    b_low, b_high = np.maximum(before.value - before.error, 0.0), before.value + before.error
    move = np.maximum(share(a_high, b_low) - value, value - share(a_low, b_high))
    if np.any((a_low == 0) & (a_high > 0)):
        move = np.maximum(move, 1.0)  # 0 / 0 within the errors: anything in [0, 1]
    return a._new(value, move + rounding.gamma(2, a.u) * (value + move) + 2 * a.f)


def _muon_adamw_bound(w, g, s, lr, t, p):
    """`_muon_adamw`: its decay at lr_adam = adam_lr_ratio * lr, then `_adam_bound` at lr_adam."""
    lr_adam = lr * constant(p["adam_lr_ratio"], w.fmt)
    if p["adam_weight_decay"]:
        w = _decay_carried(w, lr_adam, p["adam_weight_decay"])
    adam = {"beta_1": p["adam_beta_1"], "beta_2": p["adam_beta_2"], "epsilon": p["epsilon"], "amsgrad": False}
    return _adam_bound(w, g, s, lr_adam, t, adam)


BOUND_RULES = {
    "SGD": _sgd_bound, "RMSprop": _rmsprop_bound, "Adam": _adam_bound, "AdamW": _adam_bound, "Adamax": _adamax_bound,
    "Nadam": _nadam_bound, "Adagrad": _adagrad_bound, "Adadelta": _adadelta_bound, "Ftrl": _ftrl_bound,
    "Lion": _lion_bound, "Lamb": _lamb_bound, "Adafactor": _adafactor_bound,
    "ScheduleFreeAdamW": _schedule_free_adamw_bound, "Muon": _muon_adamw_bound,
}


def error_bound(name: str, params: dict, variables: dict, gradients: list, fmt) -> list | None:
    """After each step of `run(name, params, variables, gradients)`: {"variables": {name: bound},
    "slots": {name: {slot: bound}}, "values": {name: the variable's value}}: per element, how far
    a correct evaluation of the documented step in the format `fmt` (rounding.Format) may land
    from the exact one, the implementation continuing from its own values (the running error
    analysis above: the base steps as `run` takes them: the mean of accumulated gradients,
    clipping, weight decay, the rule, the EMA and its overwrite; the learning rate as
    `learning_rate_carried`). `values` are the variables the bound was derived for (the check
    uses the bound only where they are its reference's). None where no bound is derived: a
    gamma_K with K u >= 1 (a norm over 256 or more elements in bfloat16), or a second moment
    divided by a bias correction that may be 0 (`_second_bias_correction`)."""
    try:
        if name == "LossScaleOptimizer":
            return _loss_scale_bound(params, variables, gradients, fmt)
        if name == "MultiOptimizer":
            return _multi_bound(params, variables, gradients, fmt)
        return _run_bound(name, params, variables, gradients, fmt)
    except ValueError:  # gamma_K bounds nothing, or 1 - beta_2^t may be 0
        return None


def _run_bound(name, params, variables, gradients, fmt, scale=None) -> list:
    p = arguments(name, params)
    check_arguments(name, p)
    rule = BOUND_RULES[name]
    init = RULES[name][1]
    w = {n: exact(v, fmt) for n, v in variables.items()}
    slots = {n: {k: exact(s, fmt) for k, s in init(np.asarray(v, np.float64), p).items()} for n, v in variables.items()}
    k = p["gradient_accumulation_steps"] or 1
    pending = {n: [] for n in w}
    ema = None
    out = []
    for iteration, grads in enumerate(gradients):
        for n in w:
            g = exact(grads[n], fmt)
            if scale is not None:  # LossScaleOptimizer: the gradient over the loss scale
                g = g / scale[iteration]
            pending[n].append(g)
        if (iteration + 1) % k == 0:
            g = _clip_carried({n: _mean_of_gradients(pending[n], fmt) for n in w}, p, fmt)
            pending = {n: [] for n in w}
            lr = learning_rate_carried(p["learning_rate"], iteration, fmt)
            t = (iteration + 1) // k
            for n in w:
                v = w[n]
                if p["weight_decay"] and name not in DECAY_IN_RULE:
                    v = _decay_carried(v, lr, p["weight_decay"])
                w[n], slots[n] = rule(v, g[n], slots[n], lr, t, p)
            if p["use_ema"]:
                ema = dict(w) if ema is None else {n: average(p["ema_momentum"], ema[n], w[n]) for n in w}
                if p["ema_overwrite_frequency"] and ((iteration + 1) // k) % p["ema_overwrite_frequency"] == 0:
                    w = dict(ema)
        out.append({"variables": {n: np.broadcast_to(c.error, c.value.shape).copy() for n, c in w.items()},
                    "slots": {n: {k_: np.broadcast_to(c.error, c.value.shape).copy() for k_, c in s.items() if c.value.ndim}
                              for n, s in slots.items()},
                    "values": {n: c.value.copy() for n, c in w.items()}})
    return out


def _loss_scale_bound(params, variables, gradients, fmt) -> list:
    """`loss_scale_run`: the inner rule's bound on the gradients divided by the scale of their
    step (a power of two: exact unless below the normal range, which `/` allows for)."""
    p = {**LOSS_SCALE_DEFAULTS, **{k: v for k, v in params.items() if k != "inner_optimizer"}}
    inner = params["inner_optimizer"]
    scale, finite_steps = float(p["initial_scale"]), 0
    applied, scales, out = [], [], []
    for grads in gradients:
        unscaled = {n: np.asarray(g, np.float64) / scale for n, g in grads.items()}
        if all(np.all(np.isfinite(g)) for g in unscaled.values()):
            applied.append(grads)
            scales.append(scale)
            finite_steps += 1
            if finite_steps == p["dynamic_growth_steps"]:
                scale, finite_steps = scale * 2, 0
            out.append(_run_bound(inner["class_name"], inner.get("config", {}), variables, applied, fmt, scale=scales)[-1])
        else:
            scale, finite_steps = scale / 2, 0
            out.append(out[-1] if out else {"variables": {n: np.zeros(np.shape(v)) for n, v in variables.items()},
                                            "slots": {}, "values": {n: np.asarray(v, np.float64) for n, v in variables.items()}})
    return out


def _multi_bound(params, variables, gradients, fmt) -> list:
    """`multi_run`: each optimizer's bound on its own variables, merged per step."""
    optimizer_map = params.get("optimizer_map") or {}
    groups: dict = {}
    for name in variables:
        groups.setdefault(route(optimizer_map, name), []).append(name)
    out = [{"variables": {}, "slots": {}, "values": {}} for _ in gradients]
    for key, names in groups.items():
        spec = params["default_optimizer"] if key is None else optimizer_map[key]
        records = _run_bound(spec["class_name"], spec.get("config", {}), {n: variables[n] for n in names},
                             [{n: g[n] for n in names} for g in gradients], fmt)
        for merged, record in zip(out, records):
            for part in merged:
                merged[part].update(record[part])
    return out
