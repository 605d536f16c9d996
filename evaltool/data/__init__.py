"""The data contract and its checking: column types and conversion (``columns``), table specs
(``specs``), the core tables (``contract``), reading workbooks and CSV folders (``reading``),
checking them against the specs (``checking``) and the problem list (``problems``)."""
