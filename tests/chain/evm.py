"""A real EVM (eth-tester over py-evm) behind a real JSON-RPC HTTP server, for the chain tests.

The product's RPC client talks to it over HTTP exactly as it talks to a public node, so the
client's timeouts, fail-over and decoding run for real. Tests drive the chain through the same
HTTP API, with four extra methods (Hardhat/Anvil-like names): ``evm_mine`` (n blocks),
``evm_snapshot`` / ``evm_revert`` (a reorg: revert, then mine other blocks at the same heights)
and ``evm_setAutomine`` (off: sent transactions stay pending until ``evm_mine``).

In one process::

    with serve_evm() as node:            # a Node: .url, .w3, .accounts, .mine(), .deploy()...
        token = node.deploy("TestToken", "Test", "TST", 6, 10**12)

As a separate process (so a test can kill -9 the product's worker while the chain runs on)::

    python -m tests.chain.evm --port 8545 [--chain-id 1337]
    with evm_process(chain_id=1337) as node: ...

``broken_server(mode)`` is an RPC URL that fails in one way: "500", "hang", "garbage", "error".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import BlockNotFound, TransactionFailed, TransactionNotFound, ValidationError
from web3 import Web3
from web3.contract import Contract

CONTRACTS_JSON = Path(__file__).parent / "contracts" / "contracts.json"
DEFAULT_CHAIN_ID = 131277322940537  # eth-tester's own
UNLIMITED = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20


def contract_interface(name: str) -> dict[str, Any]:
    """ABI and bytecode of one of the compiled test contracts (see contracts/build.sh)."""
    return dict(json.loads(CONTRACTS_JSON.read_text())["contracts"][name])


# --------------------------------------------------------------------------------------------
# eth-tester's Python shapes <-> JSON-RPC's hex shapes


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _out(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {_camel(k): _out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_out(v) for v in value]
    return value


def _out_tx(tx: dict[str, Any]) -> dict[str, Any]:
    tx = dict(tx)
    tx["input"] = tx.pop("data", "0x")
    return _out(tx)


def _out_block(block: dict[str, Any], full: bool) -> dict[str, Any]:
    block = dict(block)
    block["logs_bloom"] = "0x" + int(block.get("logs_bloom") or 0).to_bytes(256, "big").hex()
    if full:
        block["transactions"] = [_out_tx(tx) for tx in block["transactions"]]
    return _out(block)


def _out_log(log: dict[str, Any]) -> dict[str, Any]:
    log = dict(log)
    log.pop("type", None)
    log["removed"] = False
    return _out(log)


def _out_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    receipt = dict(receipt)
    receipt.pop("state_root", None)
    receipt["logs"] = [_out_log(log) for log in receipt["logs"]]
    receipt.setdefault("logs_bloom", 0)
    receipt["logs_bloom"] = "0x" + int(receipt["logs_bloom"] or 0).to_bytes(256, "big").hex()
    return _out(receipt)


_TX_KEYS = {
    "from": "from",
    "to": "to",
    "gas": "gas",
    "gasPrice": "gas_price",
    "maxFeePerGas": "max_fee_per_gas",
    "maxPriorityFeePerGas": "max_priority_fee_per_gas",
    "value": "value",
    "data": "data",
    "input": "data",
    "nonce": "nonce",
}
_QUANTITIES = {"gas", "gas_price", "max_fee_per_gas", "max_priority_fee_per_gas", "value", "nonce"}


def _in_tx(tx: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in tx.items():
        name = _TX_KEYS.get(key)
        if name is None or value is None:
            continue
        result[name] = int(value, 16) if name in _QUANTITIES and isinstance(value, str) else value
    return result


def _in_block(tag: Any) -> Any:
    if isinstance(tag, str) and tag.startswith("0x"):
        return int(tag, 16)
    if tag in ("safe", "finalized"):
        return "latest"
    return tag if tag is not None else "latest"


class RPCError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


# --------------------------------------------------------------------------------------------
# The node


class EVM:
    """One chain in memory, answering JSON-RPC request objects (one lock: py-evm is not
    thread-safe, and a node answers one request at a time as far as its state goes)."""

    def __init__(self, chain_id: int = DEFAULT_CHAIN_ID) -> None:
        self.tester = EthereumTester(PyEVMBackend())
        # The tester chain's class is made per backend, so this changes only this chain.
        type(self.tester.backend.chain).chain_id = chain_id
        self.chain_id = chain_id
        self.lock = threading.RLock()
        self.requests = 0
        # eth_call without "from": a funded account pays the (unspent) gas; the zero address
        # cannot afford py-evm's gas check.
        self._caller = self.tester.get_accounts()[0]

    # one JSON-RPC request object -> one response object
    def handle(self, request: Any) -> dict[str, Any]:
        ident = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RPCError(-32600, "invalid request")
            method = getattr(self, "rpc_" + request["method"], None)
            if method is None:
                raise RPCError(-32601, f"the method {request['method']} does not exist/is not available")
            with self.lock:
                self.requests += 1
                result = method(*(request.get("params") or []))
            return {"jsonrpc": "2.0", "id": ident, "result": result}
        except RPCError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            return {"jsonrpc": "2.0", "id": ident, "error": error}
        except (TypeError, ValueError, KeyError, ValidationError) as exc:
            return {"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": str(exc)}}
        except Exception as exc:  # a node answers an error, it does not drop the connection
            return {"jsonrpc": "2.0", "id": ident, "error": {"code": -32000, "message": repr(exc)}}

    # chain
    def rpc_eth_chainId(self) -> str:
        return hex(self.chain_id)

    def rpc_net_version(self) -> str:
        return str(self.chain_id)

    def rpc_web3_clientVersion(self) -> str:
        return "walletdesk-test-evm/eth-tester"

    def rpc_eth_blockNumber(self) -> str:
        return hex(self.tester.get_block_by_number("latest")["number"])

    def rpc_eth_gasPrice(self) -> str:
        return hex(self.tester.get_block_by_number("latest")["base_fee_per_gas"] + 10**9)

    def rpc_eth_maxPriorityFeePerGas(self) -> str:
        return hex(10**9)

    def rpc_eth_accounts(self) -> list[str]:
        return list(self.tester.get_accounts())

    # blocks
    def rpc_eth_getBlockByNumber(self, tag: Any, full: bool = False) -> Any:
        try:
            return _out_block(self.tester.get_block_by_number(_in_block(tag), full), full)
        except BlockNotFound:
            return None

    def rpc_eth_getBlockByHash(self, block_hash: str, full: bool = False) -> Any:
        try:
            return _out_block(self.tester.get_block_by_hash(block_hash, full), full)
        except BlockNotFound:
            return None

    # transactions
    def rpc_eth_getTransactionByHash(self, tx_hash: str) -> Any:
        try:
            return _out_tx(self.tester.get_transaction_by_hash(tx_hash))
        except TransactionNotFound:
            return None

    def rpc_eth_getTransactionReceipt(self, tx_hash: str) -> Any:
        try:
            return _out_receipt(self.tester.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def rpc_eth_getLogs(self, query: dict[str, Any]) -> list[Any]:
        from_block, to_block = query.get("fromBlock"), query.get("toBlock")
        if query.get("blockHash"):
            try:
                number = self.tester.get_block_by_hash(query["blockHash"])["number"]
            except BlockNotFound:
                raise RPCError(-32000, "unknown block") from None
            from_block = to_block = number
        logs = self.tester.get_logs(
            from_block=_in_block(from_block),
            to_block=_in_block(to_block),
            address=query.get("address"),
            topics=query.get("topics"),
        )
        return [_out_log(log) for log in logs]

    # state
    def rpc_eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        return hex(self.tester.get_balance(address, _in_block(tag)))

    def rpc_eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        return hex(self.tester.get_nonce(address, _in_block(tag)))

    def rpc_eth_getCode(self, address: str, tag: Any = "latest") -> str:
        code = self.tester.get_code(address, _in_block(tag))
        return code if isinstance(code, str) else "0x" + bytes(code).hex()

    def rpc_eth_call(self, tx: dict[str, Any], tag: Any = "latest") -> str:
        try:
            result = self.tester.call({"from": self._caller, **_in_tx(tx)}, _in_block(tag))
        except TransactionFailed as exc:
            raise _reverted(exc) from None
        return result if isinstance(result, str) else "0x" + bytes(result).hex()

    def rpc_eth_estimateGas(self, tx: dict[str, Any], tag: Any = "latest") -> str:
        try:
            return hex(self.tester.estimate_gas({"from": self._caller, **_in_tx(tx)}, _in_block(tag)))
        except TransactionFailed as exc:
            raise _reverted(exc) from None

    def rpc_eth_sendTransaction(self, tx: dict[str, Any]) -> str:
        params = _in_tx(tx)
        if "gas" not in params:
            # As a real node does: estimate, and refuse a transaction that would revert.
            try:
                params["gas"] = self.tester.estimate_gas(params)
            except TransactionFailed as exc:
                raise _reverted(exc) from None
        return str(self.tester.send_transaction(params))

    def rpc_eth_sendRawTransaction(self, raw: str) -> str:
        return str(self.tester.send_raw_transaction(raw))

    def rpc_eth_feeHistory(self, count: Any, newest: Any, percentiles: list[float] | None = None) -> Any:
        count = int(count, 16) if isinstance(count, str) else int(count)
        return _out(self.tester.get_fee_history(count, _in_block(newest), percentiles or []))

    # test controls
    def rpc_evm_mine(self, blocks: Any = 1) -> list[str]:
        blocks = int(blocks, 16) if isinstance(blocks, str) else int(blocks)
        return [str(h) for h in self.tester.mine_blocks(blocks)]

    def rpc_evm_snapshot(self) -> str:
        return hex(self.tester.take_snapshot())

    def rpc_evm_revert(self, snapshot: Any) -> bool:
        self.tester.revert_to_snapshot(int(snapshot, 16) if isinstance(snapshot, str) else int(snapshot))
        return True

    def rpc_evm_setAutomine(self, on: bool) -> bool:
        if on:
            self.tester.enable_auto_mine_transactions()
        else:
            self.tester.disable_auto_mine_transactions()
        return True


def _reverted(exc: TransactionFailed) -> RPCError:
    # geth's shape: code 3, "execution reverted: <reason>"
    raw = exc.args[0] if exc.args else ""
    if isinstance(raw, bytes) and raw[:4] == bytes.fromhex("08c379a0") and len(raw) >= 68:
        length = int.from_bytes(raw[36:68], "big")  # Error(string): offset, length, text
        raw = raw[68 : 68 + length].decode("utf-8", "replace")
    reason = str(raw).removeprefix("execution reverted: ")
    return RPCError(3, f"execution reverted: {reason}".rstrip(": "))


# --------------------------------------------------------------------------------------------
# HTTP


class _Handler(BaseHTTPRequestHandler):
    server: RPCServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self._reply(
                200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            )
            return
        mode = self.server.fault
        if mode == "500":
            self._raw(500, b"Internal Server Error", "text/plain")
            return
        if mode == "hang":
            self.server.release.wait(60)
            self._raw(504, b"", "text/plain")
            return
        if mode == "garbage":
            self._raw(200, b"<html>not json</html>", "text/html")
            return
        if mode == "error":
            self._reply(
                200,
                {
                    "jsonrpc": "2.0",
                    "id": body.get("id"),
                    "error": {"code": -32005, "message": "limit exceeded"},
                },
            )
            return
        evm = self.server.evm
        assert evm is not None
        if isinstance(body, list):
            self._reply(200, [evm.handle(item) for item in body])
        else:
            self._reply(200, evm.handle(body))

    def _reply(self, status: int, payload: Any) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class RPCServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, evm: EVM | None, host: str = "127.0.0.1", port: int = 0, fault: str = "") -> None:
        super().__init__((host, port), _Handler)
        self.evm, self.fault = evm, fault
        self.release = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RPCServer:
        threading.Thread(target=self.serve_forever, name="test-evm-rpc", daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


# --------------------------------------------------------------------------------------------
# What tests hold: a node reached over HTTP, in this process or another


class Node:
    """The chain as a test drives it: over the same JSON-RPC as the product's client."""

    def __init__(self, url: str, chain_id: int) -> None:
        self.url, self.chain_id = url, chain_id
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))

    @property
    def accounts(self) -> list[str]:
        """Ten funded, unlocked accounts (1,000,000 ETH each)."""
        return list(self.w3.eth.accounts)

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(response["error"])
        return response["result"]

    def mine(self, blocks: int = 1) -> list[str]:
        return list(self.rpc("evm_mine", blocks))

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot: str) -> None:
        self.rpc("evm_revert", snapshot)

    def automine(self, on: bool) -> None:
        self.rpc("evm_setAutomine", on)

    @property
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def deploy(self, name: str, *args: Any, sender: str | None = None) -> Contract:
        spec = contract_interface(name)
        factory = self.w3.eth.contract(abi=spec["abi"], bytecode=spec["bytecode"])
        tx_hash = factory.constructor(*args).transact({"from": sender or self.accounts[0]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        return self.contract(name, receipt["contractAddress"])

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=contract_interface(name)["abi"]
        )

    def send(self, call: Any, sender: str, gas: int | None = None) -> str:
        """Send a contract call (``token.functions.transfer(to, 5)``) or a plain dict transaction;
        the hash as 0x-hex. With ``gas`` given, no estimate runs: a reverting call is mined as failed."""
        tx: dict[str, Any] = {"from": sender}
        if gas is not None:
            tx["gas"] = gas
        if isinstance(call, dict):
            tx_hash = self.w3.eth.send_transaction({**call, **tx})  # type: ignore[typeddict-item]
        else:
            tx_hash = call.transact(tx)
        return "0x" + bytes(tx_hash).hex()

    def pay(self, to: str, wei: int, sender: str | None = None) -> str:
        return self.send({"to": Web3.to_checksum_address(to), "value": wei}, sender or self.accounts[0])


@contextlib.contextmanager
def serve_evm(chain_id: int = DEFAULT_CHAIN_ID) -> Iterator[Node]:
    """A chain and its JSON-RPC server in this process, on a free port."""
    server = RPCServer(EVM(chain_id)).start()
    try:
        yield Node(server.url, chain_id)
    finally:
        server.stop()


@contextlib.contextmanager
def broken_server(mode: str) -> Iterator[str]:
    """An RPC URL that fails: "500" (HTTP 500), "hang" (never answers in time), "garbage"
    (HTML instead of JSON), "error" (a JSON-RPC error on every call)."""
    server = RPCServer(None, fault=mode).start()
    try:
        yield server.url
    finally:
        server.stop()


def dead_url() -> str:
    """A URL where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def evm_process(chain_id: int = DEFAULT_CHAIN_ID, port: int = 0) -> Iterator[Node]:
    """The chain in a process of its own (``python -m tests.chain.evm``), stopped on exit."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.chain.evm", "--port", str(port), "--chain-id", str(chain_id)],
        cwd=root,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()  # "listening on http://127.0.0.1:PORT"
        if not line.startswith("listening on "):
            raise RuntimeError(f"the EVM process did not start: {line!r}")
        yield Node(line.split()[-1], chain_id)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def wait_until(predicate: Callable[[], Any], timeout: float = 20, step: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy (for waiting on another process, not for timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A test EVM behind a JSON-RPC HTTP server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    args = parser.parse_args(argv)
    server = RPCServer(EVM(args.chain_id), args.host, args.port)
    print(f"listening on {server.url}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
