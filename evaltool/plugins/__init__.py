"""Built-in instrument plugins, registered exactly like third-party ones (see registry.py)."""

DEFAULT_PLUGINS = (
    "evaltool.plugins.builtin_definitions",
    "evaltool.plugins.goal_attainment",
    "evaltool.plugins.goal_based_outcomes",
    "evaltool.plugins.domain_scale",
    "evaltool.plugins.survey",
    "evaltool.plugins.partner_access",
    "evaltool.plugins.pregnancies",
)
