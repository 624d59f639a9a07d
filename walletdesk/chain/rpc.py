"""Talking to a chain: web3.py over HTTP, each configured RPC URL in turn, never another chain.

``client(chain)`` gives a ``ChainClient``. Each call tries the chain's URLs in order and moves
on when one fails as a node (connection refused, timeout, HTTP error, garbage, or a JSON-RPC
error such as "limit exceeded"); when every URL fails it raises one ``ChainUnavailable``. A
chain's answer is never confused with a failure: a transaction that does not exist is ``None``
(nodes answer ``null``), and a contract call that reverts raises ``CallReverted``, from the
first node that answers; neither moves on to the next URL.

Before a URL's first answer is used, its ``eth_chainId`` must equal the configured chain id: a
misconfigured URL (a testnet, another chain) would otherwise feed us another chain's data, and
an agent would read a stranger's transaction as the customer's. A URL that answers the wrong id
is skipped, as a failed one is, and is checked again next time rather than trusted.

No retries inside web3 (``exception_retry_configuration=None``): a retry on a dead node hides
it and multiplies the wait; the next URL is the retry. Timeouts are explicit (connect, read).

Results are raw JSON-RPC values (hex strings, camelCase keys) so the decoding code is pure and
testable on plain dicts (``walletdesk.chain.lookup``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
from django.conf import settings

if TYPE_CHECKING:
    from web3 import Web3

    from .models import Chain

log = logging.getLogger(__name__)
T = TypeVar("T")

# A URL that just failed goes to the back of the queue for this long, so a dead first URL does
# not cost a connect timeout on every call; it is still tried when the others fail too.
COOL_DOWN_SECONDS = 30

# (url, chain_id) pairs whose eth_chainId has been checked in this process
_verified: set[tuple[str, int]] = set()
# url -> monotonic time until which it sorts last
_cooling: dict[str, float] = {}
_state_lock = threading.Lock()


class ChainUnavailable(Exception):
    """No configured URL of this chain gave an answer we can use."""

    def __init__(self, chain_name: str, failures: Sequence[tuple[str, str]]) -> None:
        self.chain_name = chain_name
        self.failures = list(failures)  # (host, reason): hosts only, URLs may hold API keys
        reasons = "; ".join(f"{host}: {reason}" for host, reason in self.failures) or "no RPC URL"
        super().__init__(f"{chain_name} is unavailable ({reasons})")


class CallReverted(Exception):
    """A contract call reverted: the chain's answer, not a node failure."""


class WrongChain(Exception):
    """The URL answers for another chain id (kept apart from transport failures in the reason)."""


@dataclass
class ChainClient:
    name: str
    chain_id: int
    urls: list[str]
    timeout: float = 5.0
    # monotonic time after which no further request starts (a web request's budget), or None
    deadline: float | None = None

    # --- the one way out ------------------------------------------------------------------
    def request(self, fn: Callable[[Web3], T]) -> T:
        """Run ``fn(w3)`` against the first URL that works; see the module docstring."""
        # web3 is imported on first use: it costs ~30 MiB in every process that imports this
        # module (all of them, through the apps), and only the chain look-ups need it.
        from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound

        failures: list[tuple[str, str]] = []
        for url in self._ordered_urls():
            host = urlsplit(url).hostname or "?"
            timeout = self.timeout
            if self.deadline is not None:
                timeout = min(timeout, self.deadline - time.monotonic())
                if timeout <= 0.05:
                    failures.append((host, "out of time"))
                    continue
            try:
                w3 = self._web3(url, timeout)
                self._check_chain_id(url, w3)
                result = fn(w3)
            except (CallReverted, TransactionNotFound, BlockNotFound):
                raise  # the chain answered
            except ContractLogicError as exc:
                raise CallReverted(str(exc)) from exc
            except Exception as exc:  # any other failure is this node's: try the next one
                reason = _reason(exc)
                failures.append((host, reason))
                _cool(url)
                log.warning("chain %s: RPC host %s failed: %s", self.name, host, reason)
                continue
            with _state_lock:
                _cooling.pop(url, None)
            return result
        raise ChainUnavailable(self.name, failures)

    def rpc(self, method: str, *params: Any) -> Any:
        """One raw JSON-RPC call; the ``result`` as the node sent it (``None`` for "not found")."""

        def call(w3: Web3) -> Any:
            response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
            if not isinstance(response, dict):
                raise ValueError("not a JSON-RPC response")
            if response.get("error"):
                error = response["error"]
                message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
                code = error.get("code") if isinstance(error, dict) else None
                if code == 3 or (method == "eth_call" and _EXECUTION_FAILED.search(message)):
                    raise CallReverted(message[:200])
                if code != -32601 and "not found" in message.lower():
                    return None  # some nodes answer "transaction not found" as an error
                from web3.exceptions import Web3RPCError

                raise Web3RPCError(f"JSON-RPC error {code}: {message[:200]}")
            if "result" not in response:
                raise ValueError("JSON-RPC response without a result")
            return response["result"]

        return self.request(call)

    # --- what the look-up and the monitor ask -------------------------------------------
    def block_number(self) -> int:
        return _quantity(self.rpc("eth_blockNumber"))

    def block(self, number: int | str, full: bool = False) -> dict[str, Any] | None:
        tag = hex(number) if isinstance(number, int) else number
        return self.rpc("eth_getBlockByNumber", tag, full)

    def block_by_hash(self, block_hash: str, full: bool = False) -> dict[str, Any] | None:
        return self.rpc("eth_getBlockByHash", block_hash, full)

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return self.rpc("eth_getTransactionByHash", tx_hash)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.rpc("eth_getTransactionReceipt", tx_hash)

    def logs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.rpc("eth_getLogs", query) or [])

    def call(self, to: str, data: str, block: str = "latest") -> str:
        """``eth_call``; raises ``CallReverted`` when the contract reverts."""
        return str(self.rpc("eth_call", {"to": to, "data": data}, block))

    def balance(self, address: str, block: str = "latest") -> int:
        return _quantity(self.rpc("eth_getBalance", address, block))

    def nonce(self, address: str, block: str = "latest") -> int:
        return _quantity(self.rpc("eth_getTransactionCount", address, block))

    # --- internals --------------------------------------------------------------------------
    def _web3(self, url: str, timeout: float) -> Web3:
        from web3 import Web3

        # One per call: the timeout shrinks with the deadline. Cheap, and web3 shares the
        # HTTP session (and its kept-alive connections) per URL.
        provider = Web3.HTTPProvider(
            url,
            request_kwargs={"timeout": (min(3.0, timeout), timeout)},
            exception_retry_configuration=None,
        )
        return Web3(provider)

    def _check_chain_id(self, url: str, w3: Web3) -> None:
        if (url, self.chain_id) in _verified:
            return
        response = w3.provider.make_request("eth_chainId", [])  # type: ignore[arg-type]
        answered = response.get("result") if isinstance(response, dict) else None
        if not isinstance(answered, str):
            raise ValueError(f"no chain id in the answer to eth_chainId: {str(response)[:120]}")
        if _quantity(answered) != self.chain_id:
            raise WrongChain(f"answers chain id {_quantity(answered)}, not {self.chain_id}")
        with _state_lock:
            _verified.add((url, self.chain_id))

    def _ordered_urls(self) -> list[str]:
        now = time.monotonic()
        with _state_lock:
            cooling = {url for url, until in _cooling.items() if until > now}
        return [u for u in self.urls if u not in cooling] + [u for u in self.urls if u in cooling]


def client(chain: Chain, deadline: float | None = None) -> ChainClient:
    """A client for one configured chain (cheap: make one per task or look-up). ``deadline``
    (``time.monotonic()`` based) bounds the whole conversation: no request starts after it,
    and none waits beyond it."""
    return ChainClient(
        name=chain.name,
        chain_id=int(chain.chain_id),
        urls=list(chain.urls),
        timeout=float(getattr(settings, "CHAIN_RPC_TIMEOUT", 5)),
        deadline=deadline,
    )


def forget() -> None:
    """Drop what this process remembers about URLs (tests; after an admin edits a chain)."""
    with _state_lock:
        _verified.clear()
        _cooling.clear()


def _cool(url: str) -> None:
    with _state_lock:
        _cooling[url] = time.monotonic() + COOL_DOWN_SECONDS
        # a node that failed may come back as another one: check its chain id again
        for key in [key for key in _verified if key[0] == url]:
            _verified.discard(key)


# How nodes word a contract call that failed while executing (geth, erigon, nethermind, besu):
# the chain's answer about that contract, not a node failure.
_EXECUTION_FAILED = re.compile(r"(?i)revert|out of gas|invalid opcode|stack (underflow|overflow)|execution")


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"not a JSON-RPC quantity: {str(value)[:40]}")
    return int(value, 16)


def _reason(exc: Exception) -> str:
    if isinstance(exc, WrongChain):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return f"HTTP {status}"
    if isinstance(exc, ValueError):
        return "bad answer"
    return str(exc)[:120] or type(exc).__name__
