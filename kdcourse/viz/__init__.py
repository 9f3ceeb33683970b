"""Presentation: the course's figures (plots, llm_plots, panels) and widgets (widget base, explorers,
playground, kl_direction). Imports the core only, never the lessons' code."""
