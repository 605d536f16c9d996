"""Built-in plugins (the instruments, and the Excel and JSON outputs), registered exactly like
third-party ones (see ``evaltool.instruments.registry``)."""

DEFAULT_PLUGINS = (
    "evaltool.plugins.builtin_definitions",
    "evaltool.plugins.goal_attainment",
    "evaltool.plugins.goal_based_outcomes",
    "evaltool.plugins.domain_scale",
    "evaltool.plugins.survey",
    "evaltool.plugins.partner_access",
    "evaltool.plugins.pregnancies",
    "evaltool.plugins.outputs",
)
