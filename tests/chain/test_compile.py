"""compile.py: ABI and bytecode from vyper's Python API, cached on disk by source hash and compiler."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import vyper

from hedgekeeper.chain.compile import CONTRACT_NAMES, CONTRACTS_DIRECTORY, _compile, cache_directory, compile_contract
from hedgekeeper.chain.errors import ContractCompileError

HARNESS = Path(__file__).resolve().parent / "contracts" / "bs_math_harness.vy"


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEDGEKEEPER_CACHE_DIR", str(tmp_path / "cache"))
    _compile.cache_clear()
    yield cache_directory()
    _compile.cache_clear()


def _outputs(abi: list[dict], name: str) -> tuple[list[str], list[str]]:
    (entry,) = [e for e in abi if e.get("name") == name and e["type"] == "function"]
    return [i["type"] for i in entry["inputs"]], [o["type"] for o in entry["outputs"]]


def test_every_contract_compiles_to_bytecode() -> None:
    for name in CONTRACT_NAMES:
        compiled = compile_contract(name)
        assert compiled.bytecode.startswith("0x") and len(compiled.bytecode) > 100 and compiled.abi


def test_the_vault_keeps_its_documented_keeper_interface() -> None:
    abi = compile_contract("vault").abi
    assert _outputs(abi, "check") == ([], ["bool", "bool", "int256", "int256", "uint256"])
    assert _outputs(abi, "rebalance") == (["int256", "uint256"], ["uint256"])
    assert _outputs(abi, "rebalance_from_batcher") == (["address"], ["bool"])
    assert _outputs(abi, "options") == (["uint256"], ["uint256", "uint256", "uint256", "bool"])
    assert _outputs(compile_contract("batcher").abi, "rebalance_many") == (["address[]"], ["bool[]"])
    round_types = ["uint80", "int256", "uint256", "uint256", "uint80"]
    assert _outputs(compile_contract("oracle").abi, "latestRoundData") == ([], round_types)


def _sources(tmp_path: Path) -> Path:
    """Copy the contracts and the bs_math test harness (a small importer of bs_math) to a scratch folder."""
    sources = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIRECTORY, sources)
    shutil.copy(HARNESS, sources / HARNESS.name)
    return sources


def test_a_compilation_is_cached_on_disk_under_the_source_and_compiler_key(private_cache: Path, tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    first = compile_contract(sources / HARNESS.name)
    (file,) = private_cache.glob("bs_math_harness-*.json")
    assert json.loads(file.read_text())["key"] == first.key
    # The next process reads the file: tag it and compile again with the memo cleared.
    payload = json.loads(file.read_text())
    payload["bytecode"] = first.bytecode + "00"
    file.write_text(json.dumps(payload))
    _compile.cache_clear()
    assert compile_contract(sources / HARNESS.name).bytecode == first.bytecode + "00"


def test_editing_an_imported_module_invalidates_the_importer(private_cache: Path, tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    before = compile_contract(sources / HARNESS.name)
    module = sources / "bs_math.vy"
    text = module.read_text()
    module.write_text(text.replace("CDF_TAIL: constant(int256) = 37 * 10**18", "CDF_TAIL: constant(int256) = 36 * 10**18"))
    _compile.cache_clear()
    after = compile_contract(sources / HARNESS.name)
    assert after.key != before.key and after.bytecode != before.bytecode
    assert len(list(private_cache.glob("bs_math_harness-*.json"))) == 2


def test_the_key_names_the_compiler_version(private_cache: Path) -> None:
    import hashlib

    compiled = compile_contract("erc20")
    assert vyper.__version__ == "0.4.3"
    assert compiled.key == compile_contract("erc20", use_cache=False).key
    assert len(compiled.key) == len(hashlib.sha256().hexdigest())


def test_a_broken_source_names_the_file_and_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.vy"
    broken.write_text("# pragma version ~=0.4.3\n@external\ndef f() -> uint256:\n    return -1\n")
    with pytest.raises(ContractCompileError, match=r"broken\.vy: .*"):
        compile_contract(broken, use_cache=False)
    with pytest.raises(ContractCompileError, match="no such contract source"):
        compile_contract("no_such_contract")
