"""Every setting read from the environment is documented in the README's configuration table."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_in_the_readme():
    settings = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r"""env_\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", settings))
    assert "DATABASE_URL" in names and "POSTGRES_HOST" in names  # the pattern still finds them
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == [], f"Variables absentes du tableau de configuration du README : {missing}"
