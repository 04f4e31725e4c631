"""Which address a request comes from, for per-client limits: not spoofable by the client.

The peer address of the connection is the client, unless the operator names
trusted reverse proxies (`HASHBANK_TRUSTED_PROXIES`). Only then is
`X-Forwarded-For` read, from the right: each trusted proxy appends the address
it received the request from, so the rightmost address that is not a trusted
proxy is the first one no trusted party vouches beyond. Anything a client
writes into the header itself stands to the left of it and is never used.
uvicorn's own `--proxy-headers` handling is switched off where the service is
started (`scripts/serve`), so it cannot rewrite the peer address first.
"""

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()
        )

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address, given the connection's peer and the request's
        `X-Forwarded-For` header values (in the order received)."""
        address = peer or "unknown"
        if not self.networks or not self._trusted(address):
            return address
        hops = [h.strip() for value in forwarded_for for h in value.split(",")]
        for hop in reversed(hops):
            if not hop:
                continue
            if not self._trusted(hop):
                return hop if _is_address(hop) else address
            address = hop
        return address  # every hop is a trusted proxy: the leftmost one asked

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
