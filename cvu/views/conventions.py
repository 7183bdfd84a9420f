"""Conventions, payment schedules, payments and clawbacks of a dossier."""
