"""Closed-form theory: optimal worker counts, equilibrium times, time complexities, parameters.

Pure NumPy (float64); nothing here touches JAX, so it is cheap to call from notebooks, figure
scripts and sweep set-up code. Spec: ``homogeneous.md`` §6.4, §7, §8.6, §9, §11,
``heterogeneous.md`` §1–§7, ``lmo_vr_local.md`` §2 and the README §3 notation / §5.4 universal
computation model.

Layout
------
One module per topic; every public name is re-exported here, so ``theory.X`` and
``from jaxsim.theory import X`` work for all of them.

* :mod:`.validation` -- input checks shared by the modules below (project code).
* :mod:`.equilibrium` -- harmonic means ``H_m``, ``m*``, equilibrium times (§11.1, §11.3).
* :mod:`.homogeneous_params` -- Rennala, Ringmaster, Naive Optimal ASGD parameters (§6.4, §7, §8.6).
* :mod:`.homogeneous_times` -- time complexities in the fixed model (§11.2).
* :mod:`.mindflayer` -- MindFlayer SGD plan, parameters and time (§9).
* :mod:`.universal` -- universal computation model block times (§11.4, README §5.4).
* :mod:`.heterogeneous` -- frequency weights, minimisers, heterogeneous time complexities
  (heterogeneous.md §1–§6).
* :mod:`.malenia_ringleader` -- Malenia and Ringleader parameters (heterogeneous.md §3.1, §5.6).
* :mod:`.allocation` -- task allocation, ATA / FTA / UTA (heterogeneous.md §7).
* :mod:`.lmo_rates` -- Ringmaster LMO: norm constant ``rho``, constant-parameter and
  parameter-agnostic rules and rates, time bounds for threshold schedules (lmo_vr_local.md
  §2.1, §2.5–§2.7). Its ``eps`` bounds the non-squared ``E||grad f||_*`` and its ``sigma`` is
  the noise standard deviation, as in that paper.
* :mod:`.mvr` -- Rennala MVR: tuning heuristic ``(a, gamma)``, rounds, round time and time
  estimate (lmo_vr_local.md §3.3, [uncertain]).
* :mod:`.loscar` -- LOSCAR-SGD's round time, compute and overlap steps in the fixed model
  (lmo_vr_local.md §4.3, [uncertain]).
* :mod:`.dp` -- DP random block coordinate descent: block partitions, uniform / importance block
  probabilities, the Gaussian noise calibration ``sigma_U`` (lmo_vr_local.md §5).

Conventions
-----------
* ``tau`` is an array-like of per-worker times in **original worker order** (0-based in code).
  Every formula sorts it internally, ``tau_(1) <= ... <= tau_(n)``, and the ``m`` of a formula
  is a **count** of fastest workers, ``m in 1..n`` (spec notation, 1-based).
* ``H_m = ( (1/m) sum_{i<=m} 1/tau_(i) )^{-1}``, the harmonic mean of the ``m`` fastest times.
* ``eps`` bounds the squared gradient norm, ``E||grad f(x)||^2 <= eps``.
* "Ties -> smallest m": minimisers are taken as the smallest index whose value is within a
  relative ``1e-12`` of the minimum, so exact ties survive float rounding.
* Tags copied from the spec: [paper] stated in the cited paper; [derived] follows from the
  paper's statements by a short argument; [draft] from an unpublished draft restating the paper;
  [uncertain] constants or exact wording not verified. Constants are those the spec shows;
  ``O(.)`` statements are returned without hidden constants.
* Bad inputs raise ``ValueError`` whose message starts with the offending argument's name.

Papers (arXiv ids)
------------------
* Ringmaster ASGD, arXiv 2501.16168.
* Rennala SGD / lower bound, arXiv 2305.12387.
* MindFlayer SGD, arXiv 2410.04285.
* Universal computation model, arXiv 2408.04929.
* Asynchronous SGD under arbitrary delays, arXiv 2206.07638 and arXiv 2206.08307.
* Heterogeneous data: Ringleader ASGD arXiv 2509.22860; Malenia SGD arXiv 2305.12387 (Method 6);
  IA²SGD arXiv 2405.16966; Rescaled ASGD arXiv 2605.13434; Concurrent ASGD arXiv 2206.08307.
* ATA: Adaptive Task Allocation, arXiv 2502.00775.
* Ringmaster LMO, arXiv 2605.18174.
* LOSCAR-SGD, arXiv 2605.20866.
* DP random block coordinate descent (DP-SkGD), arXiv 2412.17054;
  DP-CD, arXiv 2110.11688.
"""

from __future__ import annotations

from .equilibrium import (
    EquilibriumTime,
    harmonic_prefix,
    m_star,
    t_star_a,
    t_star_b,
)
from .homogeneous_params import (
    naive_optimal_params,
    rennala_params,
    ringmaster_params,
)
from .homogeneous_times import (
    asgd_time,
    hero_time,
    lower_bound_time,
    minibatch_time,
    optimal_time,
    rennala_time,
    ringmaster_block_time,
    ringmaster_iterations,
    ringmaster_time,
    ringmaster_time_bound,
)
from .mindflayer import (
    expected_time_per_success,
    mindflayer_params,
    mindflayer_plan,
    mindflayer_time,
)
from .universal import (
    piecewise_speed_integral,
    universal_block_time,
    universal_time_bound,
)
from .heterogeneous import (
    concurrent_asgd_time,
    frequency_weights,
    het_lower_bound,
    ia2sgd_time,
    malenia_time,
    naive_minibatch_time,
    quadratic_minimizers,
    rescaled_asgd_time,
    rescaled_stepsizes,
    ringleader_time,
)
from .malenia_ringleader import (
    harmonic_count,
    malenia_batch,
    malenia_stop,
    ringleader_delay_bound,
    ringleader_stepsize,
)
from .allocation import (
    Allocation,
    ata_scores,
    greedy_allocation,
    optimal_allocation,
    proxy_loss,
    uta_allocation,
)
from .lmo_rates import (
    LMOParams,
    lmo_iterations,
    lmo_params,
    lmo_rate,
    lmo_time,
    pa_alpha,
    pa_iterations,
    pa_iterations_order,
    pa_psi,
    pa_rate,
    pa_stepsize,
    pa_threshold,
    pa_threshold_code,
    pa_time_order,
    pa_universal_time_bound,
    rho,
    schedule_levels,
    schedule_time_bound,
    schedule_universal_time_bound,
    sqrt_schedule_time_bound,
)
from .mvr import mvr_iterations, mvr_params, mvr_round_time, mvr_time
from .loscar import (
    LoscarRound,
    loscar_comm_time,
    loscar_round,
)
from .dp import (
    DP_CD_CONSTANT,
    block_probabilities,
    check_partition,
    check_privacy,
    contiguous_blocks,
    coordinate_probabilities,
    dp_noise_scale,
)

__all__ = [
    "EquilibriumTime",
    "asgd_time",
    "expected_time_per_success",
    "harmonic_prefix",
    "hero_time",
    "lower_bound_time",
    "m_star",
    "mindflayer_params",
    "mindflayer_plan",
    "mindflayer_time",
    "minibatch_time",
    "naive_optimal_params",
    "optimal_time",
    "piecewise_speed_integral",
    "rennala_params",
    "rennala_time",
    "ringmaster_block_time",
    "ringmaster_iterations",
    "ringmaster_params",
    "ringmaster_time",
    "ringmaster_time_bound",
    "t_star_a",
    "t_star_b",
    "universal_block_time",
    "universal_time_bound",
    "concurrent_asgd_time",
    "frequency_weights",
    "harmonic_count",
    "het_lower_bound",
    "ia2sgd_time",
    "malenia_batch",
    "malenia_stop",
    "malenia_time",
    "naive_minibatch_time",
    "quadratic_minimizers",
    "rescaled_asgd_time",
    "rescaled_stepsizes",
    "ringleader_delay_bound",
    "ringleader_stepsize",
    "ringleader_time",
    "mvr_iterations",
    "mvr_params",
    "mvr_round_time",
    "mvr_time",
    "LoscarRound",
    "loscar_comm_time",
    "loscar_round",
    "Allocation",
    "ata_scores",
    "greedy_allocation",
    "optimal_allocation",
    "proxy_loss",
    "uta_allocation",
    "LMOParams",
    "lmo_iterations",
    "lmo_params",
    "lmo_rate",
    "lmo_time",
    "pa_alpha",
    "pa_iterations",
    "pa_iterations_order",
    "pa_psi",
    "pa_rate",
    "pa_stepsize",
    "pa_threshold",
    "pa_threshold_code",
    "pa_time_order",
    "pa_universal_time_bound",
    "rho",
    "schedule_levels",
    "schedule_time_bound",
    "schedule_universal_time_bound",
    "sqrt_schedule_time_bound",
    "DP_CD_CONSTANT",
    "block_probabilities",
    "check_partition",
    "check_privacy",
    "contiguous_blocks",
    "coordinate_probabilities",
    "dp_noise_scale",
]
