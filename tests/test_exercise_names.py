"""Every worked solution uses only names its lesson defines before the exercise cell, so pasting it
where the exercise stands cannot raise NameError."""

import pytest
from lesson_names import free_names, names_before_exercise

from kdcourse import lessons

# solution name -> (lesson notebook, the checker its exercise cell calls)
EXERCISES = {
    "majority_baseline": ("00_setup.ipynb", "check_majority_baseline"),
    "profile_choice": ("00_setup.ipynb", "check_profile_choice"),
    "fair_comparison": ("01_what_is_distillation.ipynb", "check_fair_comparison"),
    "measured_speedup": ("01_what_is_distillation.ipynb", "check_measured_speedup"),
    "most_uncertain_snippet": ("01_what_is_distillation.ipynb", "check_most_uncertain_snippet"),
    "soft_targets": ("02_soft_labels_and_loss.ipynb", "check_soft_targets"),
    "temperature_for_top": ("02_soft_labels_and_loss.ipynb", "check_temperature_for_top"),
    "fix_kd_loss": ("02_soft_labels_and_loss.ipynb", "check_kd_loss"),
    "distill_step": ("03_distillation_loop.ipynb", "check_distill_step"),
    "standard_error": ("03_distillation_loop.ipynb", "check_standard_error"),
    "first_last_student": ("04_distilbert_reproduction.ipynb", "check_first_last_student"),
    "masked_cosine": ("04_distilbert_reproduction.ipynb", "check_masked_cosine"),
    "seeds_to_decide": ("04_distilbert_reproduction.ipynb", "check_seeds_to_decide"),
    "scale_zero_point": ("05_quantization.ipynb", "check_scale_zero_point"),
    "int8_linear_bytes": ("05_quantization.ipynb", "check_int8_linear_bytes"),
    "keep_fp32": ("05_quantization.ipynb", "check_keep_fp32"),
    "reverse_kl": ("06_llm_distillation.ipynb", "check_reverse_kl"),
    "topk_mass": ("06_llm_distillation.ipynb", "check_topk_mass"),
    "full_logits_mb": ("06_llm_distillation.ipynb", "check_full_logits_mb"),
    "perplexity": ("06_llm_distillation.ipynb", "check_perplexity"),
    "pareto_front": ("07_deploy_and_frontier.ipynb", "check_pareto_front"),
    "p95": ("07_deploy_and_frontier.ipynb", "check_p95"),
    "control": ("07_deploy_and_frontier.ipynb", "check_control"),
}


def test_every_solution_is_listed():
    assert set(lessons.SOLUTIONS) == set(EXERCISES)


def test_the_free_name_finder():
    code = "def f(a):\n    return a + b\nimport math as m\nc = [i for i in range(3)]\nprint(m.pi, c, d)"
    assert free_names(code) == {"b", "d"}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_solution_uses_only_the_lesson_names(name):
    notebook, checker = EXERCISES[name]
    missing = free_names(lessons.SOLUTIONS[name]) - names_before_exercise(notebook, checker)
    assert not missing, (
        f"solution {name!r} reads {sorted(missing)}, which lessons/{notebook} does not define "
        f"before the cell that calls {checker}(): NameError when pasted there"
    )
