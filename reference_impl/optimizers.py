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
"""
from __future__ import annotations

import math
import re

import numpy as np

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


def _adam(w, g, s, lr, t, p):
    """Adam (Kingma and Ba, the formula before their Section 2.1, with "epsilon hat" as the
    docstring says): m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon). amsgrad (Reddi et al.):
    v_hat <- max(v_hat, v) takes v's place in the step (the docs are silent on its bias
    correction; we keep the same factor). AdamW is this with decoupled weight decay (the base
    step's weight_decay, default 0.004)."""
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
    the constant beta_1 as "the exponential decay rate for the 1st moment estimates")."""
    b1, b2 = p["beta_1"], p["beta_2"]
    mu_t, mu_next = _nadam_mu(b1, t), _nadam_mu(b1, t + 1)
    product = s["mu_product"] * mu_t
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
    v_hat = v / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + p["epsilon"]), {"m": m, "v": v, "mu_product": product}


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
    we read the trust ratio as 1 then."""
    b1, b2 = p["beta_1"], p["beta_2"]
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    r = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + p["epsilon"])
    wn, rn = np.linalg.norm(w), np.linalg.norm(r)
    ratio = wn / rn if wn > 0 and rn > 0 else 1.0
    return w - lr * ratio * r, {"m": m, "v": v}


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
    switch: the variable is y after every step (x is kept as a slot, not exposed)."""
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
    "Nadam": (_nadam, lambda w, p: {"m": np.zeros_like(w), "v": np.zeros_like(w), "mu_product": np.float64(1.0)}),
    "Adagrad": (_adagrad, lambda w, p: {"accumulator": np.full_like(w, p["initial_accumulator_value"])}),
    "Adadelta": (_adadelta, _zeros("accumulated_grad", "accumulated_delta")),
    "Ftrl": (_ftrl, lambda w, p: {"n": np.full_like(w, p["initial_accumulator_value"]), "z": np.zeros_like(w)}),
    "Lion": (_lion, _zeros("m")),
    "Lamb": (_lamb, _zeros("m", "v")),
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
