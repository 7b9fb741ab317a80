"""Optimizers: every keras.optimizers class we model as `optimizers.<Class>`, a thin mapping onto
reference_impl.optimizers. A case names its variables as `inputs` (name -> {shape} or
{values}; or `input_shape` for one variable `w`) and its number of steps as `calls`; each step
gets generated gradients (conformance.checks.optimizers). The learning rate may be a number or
a schedule of keras.optimizers.schedules given as {class_name, config}; LossScaleOptimizer's
inner_optimizer is {class_name, config} too.

ScheduleFreeAdamW follows the Algorithm of the paper its docstring cites (Defazio et al.
2024), its variable the interpolation y, its `momentum` slot the paper's z.
MultiOptimizer is given as {default_optimizer: {class_name, config}, optimizer_map: {pattern:
{class_name, config}}}, the OptimizerMap its docstring builds; only its variables are
compared (see _multi).

Muon is covered as far as its documentation fixes it: the variables it documents as taking
"the AdamW step" (any variable that is not 2-D, and a 2-D one whose path, the variable's name
here, matches an entry of `exclude_layers`), with adam_beta_1, adam_beta_2, epsilon,
adam_weight_decay and adam_lr_ratio, and the base class's arguments (reference_impl.optimizers:
muon_takes_adamw, _muon_adamw, with the readings taken). Its op takes only those arguments; a
case whose variables include one that takes the Muon step is not judged (the reference raises
NotImplementedError).

Left out, with the reason: Muon's own step (its documentation fixes the Newton-Schulz
coefficients but not the rest of the step: the normalisation before the iteration and its
epsilon, the orientation of tall matrices, the momentum's form (sum or moving average) and its
Nesterov variant, how `rms_rate` scales the update ("a parameter from arxiv.org/abs/2502.16982")
and what scale applies without it, where `weight_decay` enters the Muon step; the cited
implementation and Liu et al. 2025 differ on the scale), so its arguments momentum, nesterov,
ns_steps, muon_a, muon_b, muon_c and rms_rate; and `exclude_embeddings` beyond being accepted
(the docs do not say how an "embedding" variable is recognised: the cases name none so);
OptimizerMap (not an optimizer: MultiOptimizer's argument); Optimizer (the base class).
"""
from __future__ import annotations

from reference_impl import optimizers as ref

from conformance.ops import params as P
from conformance.ops.registry import OptimizerOp, register

FAMILY = "optimizers"

SCHEDULES = ("ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay",
             "CosineDecayRestarts")
LEARNING_RATE = P.ParamType(
    "a positive number or a schedule {class_name: <keras.optimizers.schedules class>, config: {...}}",
    lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0)
    or (isinstance(v, dict) and v.get("class_name") in SCHEDULES and isinstance(v.get("config", {}), dict)),
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
               {"type": "object", "required": ["class_name"],
                "properties": {"class_name": {"enum": list(SCHEDULES)}, "config": {"type": "object"}}}]},
)
OPTIONAL_POSITIVE = P.optional(P.NUMBER.at_least(0, exclusive=True))
KEYWORDS = P.ParamType(
    "a list of strings (keywords of variable paths) or null",
    lambda v: v is None or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
    {"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "string"}}]},
)
TYPES = {
    "learning_rate": LEARNING_RATE,
    "momentum": P.NUMBER, "nesterov": P.BOOL, "rho": P.NUMBER, "epsilon": P.NON_NEGATIVE, "centered": P.BOOL,
    "beta_1": P.NUMBER.between(0, 1), "beta_2": P.NUMBER.between(0, 1), "amsgrad": P.BOOL,
    "initial_accumulator_value": P.NUMBER, "learning_rate_power": P.NUMBER,
    "l1_regularization_strength": P.NUMBER, "l2_regularization_strength": P.NUMBER,
    "l2_shrinkage_regularization_strength": P.NUMBER, "beta": P.NUMBER,
    "beta_2_decay": P.NUMBER, "epsilon_1": P.NON_NEGATIVE, "epsilon_2": P.NON_NEGATIVE, "clip_threshold": P.NUMBER.at_least(0, exclusive=True),
    "relative_step": P.BOOL, "warmup_steps": P.INT.at_least(0),
    "weight_decay": P.optional(P.NON_NEGATIVE), "clipnorm": OPTIONAL_POSITIVE, "clipvalue": OPTIONAL_POSITIVE,
    "global_clipnorm": OPTIONAL_POSITIVE, "use_ema": P.BOOL, "ema_momentum": P.NUMBER.between(0, 1),
    "ema_overwrite_frequency": P.optional(P.INT.at_least(1)),
    "gradient_accumulation_steps": P.optional(P.INT.at_least(1)),
    # Muon's AdamW step
    "adam_beta_1": P.NUMBER.between(0, 1), "adam_beta_2": P.NUMBER.between(0, 1),
    "adam_weight_decay": P.optional(P.NON_NEGATIVE), "adam_lr_ratio": P.NUMBER.at_least(0, exclusive=True),
    "exclude_layers": KEYWORDS, "exclude_embeddings": P.BOOL,
}
# tf.keras's slot variables, named `<variable>_<suffix>`, -> the reference's names for them
# (the docs' or the cited paper's: SGD's velocity, Adam's m and v, Adamax's m and u, Ftrl's n and z)
SLOTS = {
    "SGD": {"momentum": "velocity"},
    "RMSprop": {"velocity": "velocity", "momentum": "momentum", "average_gradient": "average_gradient"},
    "Adam": {"momentum": "m", "velocity": "v", "velocity_hat": "v_hat"},
    "AdamW": {"momentum": "m", "velocity": "v", "velocity_hat": "v_hat"},
    "Adamax": {"momentum": "m", "norm": "u"},
    "Nadam": {"momentum": "m", "velocity": "v"},
    "Adagrad": {"accumulator": "accumulator"},
    "Adadelta": {"accumulated_grad": "accumulated_grad", "accumulated_delta_var": "accumulated_delta"},
    "Ftrl": {"accumulator": "n", "linear": "z"},
    "Lion": {"momentum": "m"},
    "Lamb": {"momentum": "m", "velocity": "v"},
    "Adafactor": {"velocity": "v"},  # the factored r and c of matrices carry no per-variable name in tf.keras
    # the docstring's `momentum` is the paper's z ("the sequence where gradient updates are
    # applied"); its averaged x is not a tf.keras variable (the model variable is y)
    "ScheduleFreeAdamW": {"momentum": "z", "velocity": "v"},
    "Muon": {"momentum": "m", "velocity": "v"},  # the AdamW step's; the Muon step's momentum is not compared
}
# `conformance new`'s starting point where the common one does not fit: Muon's 2-D variable
# takes the documented AdamW step only when exclude_layers names it
EXAMPLES = {
    "Muon": {"inputs": {"head_kernel": {"shape": [3, 4]}, "bias": {"shape": [4]}}, "calls": 3,
             "params": {"learning_rate": 0.1, "exclude_layers": ["head"]}},
}


def _bound(name: str):
    """The op's error bound: reference_impl.optimizers.error_bound (a running error analysis of
    each documented step in the case's format, carried from step to step)."""
    def error_bound(variables, gradients, params, fmt):
        return ref.error_bound(name, params, variables, gradients, fmt)
    return error_bound


# When the optimizer creates its slot variables: `before` the steps (optimizer.build on the
# variables, as Model.fit does), or `in_step`, by its first apply_gradients inside the step, as in
# the usual custom training loop (compiled: tf.function traces a step that creates variables twice).
BUILD = P.ParamType("when the optimizer creates its slots: before (the steps) or in_step (its first apply_gradients, "
                    "inside the compiled step, as a custom training loop does)",
                    lambda v: isinstance(v, str), {"type": "string"}).one_of("before", "in_step").defaults_to("before")


def _optimizer(name: str) -> OptimizerOp:
    defaults = ref.arguments(name, {})
    types = P.with_defaults({n: TYPES[n] for n in defaults}, defaults)

    def compute(variables, gradients, params):
        return ref.run(name, params, variables, gradients)

    return OptimizerOp(
        name=f"optimizers.{name}", family=FAMILY, params=types, keras_class=name, slots=SLOTS[name], call_params={"build": BUILD},
        doc=f"tf.keras.optimizers.{name}(**params).apply_gradients per step: reference_impl.optimizers ({name})",
        compute=compute, error_bound=_bound(name), example=EXAMPLES.get(name, {"inputs": {"kernel": {"shape": [3, 4]}, "bias": {"shape": [4]}}, "calls": 3,
                                                     "params": {"learning_rate": 0.1}}),
    )


def _loss_scale() -> OptimizerOp:
    inner = P.ParamType("an optimizer {class_name: SGD, config: {...}}",
                        lambda v: isinstance(v, dict) and v.get("class_name") in ref.RULES and isinstance(v.get("config", {}), dict),
                        {"type": "object", "required": ["class_name"],
                         "properties": {"class_name": {"enum": list(ref.RULES)}, "config": {"type": "object"}}})
    types = {"inner_optimizer": inner, "initial_scale": P.NUMBER.at_least(0, exclusive=True).defaults_to(32768.0),
             "dynamic_growth_steps": P.INT.at_least(1).defaults_to(2000)}

    def compute(variables, gradients, params):
        return ref.run("LossScaleOptimizer", params, variables, gradients)

    return OptimizerOp(
        name="optimizers.LossScaleOptimizer", family=FAMILY, params=types, required=("inner_optimizer",),
        keras_class="LossScaleOptimizer", slots={}, compute=compute, error_bound=_bound("LossScaleOptimizer"),
        doc="tf.keras.optimizers.LossScaleOptimizer(inner, ...).apply_gradients per step: the inner rule on gradients / scale",
        example={"inputs": {"kernel": {"shape": [3, 4]}}, "calls": 3,
                 "params": {"inner_optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.1}}, "initial_scale": 4.0}},
    )


def _multi() -> OptimizerOp:
    inner = P.ParamType("an optimizer {class_name: SGD, config: {...}}",
                        lambda v: isinstance(v, dict) and v.get("class_name") in ref.RULES and isinstance(v.get("config", {}), dict),
                        {"type": "object", "required": ["class_name"],
                         "properties": {"class_name": {"enum": list(ref.RULES)}, "config": {"type": "object"}}})
    mapping = P.ParamType(
        "{variable path or regular expression: an optimizer {class_name, config}}",
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and inner.accepts(o) for k, o in v.items()),
        {"type": "object", "additionalProperties": inner.schema})
    types = {"default_optimizer": inner, "optimizer_map": mapping.defaults_to({})}
    # Only the variables are compared: one tf.keras suffix names different slots in different
    # inner optimizers (`<variable>_momentum` is SGD's velocity and Adam's m), and `slots` maps a
    # suffix to one name. Each inner rule's slots are compared in its own cases; here a wrong
    # slot shows in its variable from the next step on.
    slots = {}

    def compute(variables, gradients, params):
        return ref.run("MultiOptimizer", params, variables, gradients)

    return OptimizerOp(
        name="optimizers.MultiOptimizer", family=FAMILY, params=types, required=("default_optimizer",),
        keras_class="MultiOptimizer", slots=slots, compute=compute, error_bound=_bound("MultiOptimizer"),
        doc="tf.keras.optimizers.MultiOptimizer(OptimizerMap(default, map)).apply_gradients per step: "
            "each variable's optimizer (by its path) runs its own rule",
        example={"inputs": {"kernel": {"shape": [3, 4]}, "bias": {"shape": [4]}}, "calls": 3,
                 "params": {"default_optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.5}},
                            "optimizer_map": {"kernel": {"class_name": "Adam", "config": {"learning_rate": 0.1}}}}},
    )


register(*(_optimizer(name) for name in ref.RULES))
register(_loss_scale())
register(_multi())
