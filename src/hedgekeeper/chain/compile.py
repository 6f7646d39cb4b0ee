"""Compile the Vyper contracts into ABI and bytecode, cached on disk.

Contracts are compiled with vyper's Python API (the pinned pip package; nothing is
downloaded). Each result is cached as JSON under ``cache_directory()`` keyed by a
SHA-256 of the compiler version, the EVM version and the text of every ``.vy``
file the compiler may import (the contract's own folder and the extra search
paths), so an edit to an imported module invalidates its importers. The cache
folder is ``$HEDGEKEEPER_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/hedgekeeper``,
else ``~/.cache/hedgekeeper``; it lies outside the repository.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hedgekeeper.chain.errors import ContractCompileError

CONTRACTS_DIRECTORY = Path(__file__).resolve().parent / "contracts"
"""The folder of hedgekeeper's contract sources (``vault.vy``, ``oracle.vy``, ...)."""

CONTRACT_NAMES = ("erc20", "oracle", "pool", "vault", "batcher")
"""The deployable contracts (``bs_math`` is a module imported by the vault)."""


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """A compiled contract.

    Attributes
    ----------
    name : str, the source's stem, e.g. ``"vault"``
    abi : list of dict, the JSON ABI
    bytecode : str, ``0x``-prefixed deployment bytecode
    key : str, the cache key (SHA-256 hex of compiler, EVM version and sources)
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    key: str


def cache_directory() -> Path:
    """Return the folder where compiled contracts are cached (created on first write)."""
    explicit = os.environ.get("HEDGEKEEPER_CACHE_DIR")
    if explicit:
        return Path(explicit) / "vyper"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hedgekeeper" / "vyper"


def _source_path(contract: str | Path) -> Path:
    path = Path(contract)
    if path.suffix != ".vy":
        path = CONTRACTS_DIRECTORY / f"{contract}.vy"
    if not path.is_file():
        raise ContractCompileError(f"{path}: no such contract source")
    return path.resolve()


def _cache_key(path: Path, search_paths: tuple[Path, ...]) -> str:
    import vyper
    from vyper.evm.opcodes import DEFAULT_EVM_VERSION

    digest = hashlib.sha256(f"vyper {vyper.__version__} evm {DEFAULT_EVM_VERSION}\n".encode())
    digest.update(f"main {path.name}\n".encode())
    digest.update(path.read_bytes())
    for folder in search_paths:
        for source in sorted(folder.glob("*.vy")):
            digest.update(f"\n--- {source.name}\n".encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _compile_uncached(path: Path, search_paths: tuple[Path, ...], key: str) -> CompiledContract:
    import vyper
    from vyper.compiler.input_bundle import FilesystemInputBundle

    bundle = FilesystemInputBundle(list(search_paths))
    try:
        output = vyper.compile_code(
            path.read_text(),
            contract_path=path.name,
            resolved_path=path,
            input_bundle=bundle,
            output_formats=["abi", "bytecode"],
        )
    except Exception as error:  # vyper raises its own hierarchy; report it as ours
        raise ContractCompileError(f"{path}: {type(error).__name__}: {error}") from error
    return CompiledContract(path.stem, output["abi"], output["bytecode"], key)


def _read_cache(file: Path, name: str, key: str) -> CompiledContract | None:
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None
    return CompiledContract(name, data["abi"], data["bytecode"], key)


def _write_cache(file: Path, compiled: CompiledContract) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"key": compiled.key, "abi": compiled.abi, "bytecode": compiled.bytecode})
        # Write then rename, so a reader never sees half a file.
        with tempfile.NamedTemporaryFile("w", dir=file.parent, delete=False, suffix=".tmp") as handle:
            handle.write(payload)
        os.replace(handle.name, file)
    except OSError:
        pass  # an unwritable cache only costs a recompilation


@functools.cache
def _compile(path: Path, search_paths: tuple[Path, ...], use_cache: bool) -> CompiledContract:
    key = _cache_key(path, search_paths)
    file = cache_directory() / f"{path.stem}-{key[:32]}.json"
    if use_cache:
        cached = _read_cache(file, path.stem, key)
        if cached is not None:
            return cached
    compiled = _compile_uncached(path, search_paths, key)
    if use_cache:
        _write_cache(file, compiled)
    return compiled


def compile_contract(
    contract: str | Path,
    search_paths: Sequence[str | Path] = (),
    *,
    use_cache: bool = True,
) -> CompiledContract:
    """Return a contract's ABI and bytecode, compiling it only when its sources changed.

    Parameters
    ----------
    contract : str or Path, a name in ``CONTRACTS_DIRECTORY`` (``"vault"``) or a path to a ``.vy`` file
    search_paths : folders where ``import`` statements look, besides the contract's
        own folder and ``CONTRACTS_DIRECTORY``
    use_cache : bool, read and write the on-disk cache (results are also memoised in-process)

    Returns
    -------
    CompiledContract

    Raises
    ------
    ContractCompileError
        The source is missing or does not compile; the message gives vyper's reason.
    """
    path = _source_path(contract)
    folders = [path.parent, CONTRACTS_DIRECTORY, *(Path(p).resolve() for p in search_paths)]
    unique = tuple(dict.fromkeys(folders))
    return _compile(path, unique, use_cache)
