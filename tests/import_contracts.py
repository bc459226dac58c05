"""A contract type for the import linter: modules that must not use certain names of a package.

The linter's own contracts work on modules; Flask's ``request``, ``session`` and ``url_for`` are
names inside the ``flask`` module, so "services never read the request" needs this one. Every
module in ``source_modules`` (packages include their submodules) is read with ``ast``: an
``import`` of a forbidden name (``from flask import request``, at any depth, in a function
too) or an attribute use of it (``flask.request``) breaks the contract.

Configured in ``pyproject.toml`` (``[tool.importlinter]``, ``type = "forbidden_names"``).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class ForbiddenNamesContract(Contract):
    """``source_modules`` never use any of ``forbidden_names`` (``package.name`` each)."""

    type_name = "forbidden_names"

    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden = {tuple(name.rsplit(".", 1)) for name in self.forbidden_names}
        found: list[str] = []
        for source in self.source_modules:
            modules = {source} | set(graph.find_descendants(source))
            for module in sorted(modules):
                found.extend(f"{module}:{line} uses {name}"
                             for line, name in uses(module, forbidden))
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["found"]:
            output.print_error(line, bold=False)
            output.new_line()


def uses(module: str, forbidden: set[tuple[str, str]]) -> list[tuple[int, str]]:
    """(line, "package.name") for each use of a forbidden name in ``module``'s source."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    tree = ast.parse(Path(spec.origin).read_text(), spec.origin)
    packages = {package for package, _name in forbidden}
    aliases = {}  # local name of a forbidden package -> the package
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in packages:
            for alias in node.names:
                if (node.module, alias.name) in forbidden:
                    hits.append((node.lineno, f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in packages:
                    aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and (aliases.get(node.value.id), node.attr) in forbidden):
            hits.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return sorted(hits)
