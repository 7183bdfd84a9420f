"""The open-data export of the collectivité's grants (décret 2017-779)."""
