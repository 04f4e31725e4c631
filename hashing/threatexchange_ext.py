"""A python-threatexchange ("pytx") extension: hashbank's own delta feed as a signal exchange.

Partners who run Meta's tooling (the `threatexchange` CLI, or Hasher-Matcher-Actioner)
can already read hashbank through its StopNCII-shaped endpoint, but pytx 1.2.17's
StopNCII exchange never deletes a withdrawn hash (see docs/threatexchange.md). This
exchange reads `GET /v1/hashes/changes` instead, where `remove` means delete, so a
photo stops matching at the partner as soon as the survivor withdraws it.

    pip install 'hashbank[threatexchange]'
    threatexchange config extensions add hashing.threatexchange_ext
    threatexchange config collab edit hashbank NAME --create --base-url https://hashbank.example
    export TX_HASHBANK_API_KEY=hbk_...        # or put it in ~/.tx_hashbank_api_key
    threatexchange fetch

Where each piece lives, in pytx's terms:

- collaboration config (`HashbankCollabConfig`): `base_url`, which server to read. It
  belongs with the collaboration, not the credential, because the fetched state and
  its cursor only mean something on the server they came from.
- credential (`HashbankCredentials`): the API key (scope `sync`), from the caller, the
  `TX_HASHBANK_API_KEY` variable or the `~/.tx_hashbank_api_key` file.
- checkpoint (`HashbankCheckpoint`): the feed's cursor, the server it belongs to and
  the time of the newest change seen; plain fields, so it survives both the CLI's
  pickles and HMA's JSON (`dataclass_json`).
- records (`hashing.threatexchange_records`): one per hash of a signal type pytx has
  a name for (PDQ as `pdq`, MD5 as `video_md5`), keyed `("pdq", hex)`, and one per
  video as pytx's whole-video `vpdq` signal (a JSON list of its frames), keyed by the
  video's reference; an `add` maps to a `HashbankSignalMetadata`, a `remove` (a
  video leaving) to None, which pytx's merge deletes. Other algorithms (`phash`,
  `dhash`) are skipped: pytx has no signal type for them.

The HTTP calls are `hashing.platform_client.PlatformClient`'s. This module imports
`threatexchange`, an optional dependency: nothing else in `hashing` imports it.
"""

import typing as t
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from threatexchange.exchanges import auth, signal_exchange_api
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.signal_base import SignalType

from hashing.platform_client import START_CURSOR, ChangesPage, PlatformClient
from hashing.threatexchange_records import (
    HashbankSignalMetadata,
    RecordKey,
    by_value,
    page_updates,
)
from hashing.transport import ServiceError

__all__ = [
    "API_NAME",
    "PAGE_SIZE",
    "TX_MANIFEST",
    "HashbankCheckpoint",
    "HashbankCollabConfig",
    "HashbankCredentials",
    "HashbankSignalExchangeAPI",
    "HashbankSignalMetadata",
]

API_NAME = "hashbank"  # stored by the CLI and HMA with every collaboration: never rename
PAGE_SIZE = 500  # changes per request (the service allows up to 1,000)


def _server(base_url: str) -> str:
    """`base_url` as compared and requested: without a trailing slash."""
    return base_url.strip().rstrip("/")


@dataclass
class _HashbankCollabConfigRequiredFields:
    # A separate base class so the required field can precede the defaulted ones
    # (pytx's NCMEC config does the same).
    base_url: str = field(
        metadata={
            "help": "the hashbank service, e.g. https://hashbank.example (no /v1)",
            "metavar": "URL",
        }
    )


@dataclass
class HashbankCollabConfig(CollaborationConfigWithDefaults, _HashbankCollabConfigRequiredFields):
    """One hashbank service to follow: `base_url` plus pytx's `name` and `enabled`.

    CLI: `threatexchange config collab edit hashbank NAME --create --base-url URL`.
    HMA: `POST /c/exchanges` with `{"bank": NAME, "api": "hashbank",
    "api_json": {"base_url": URL}}`.
    """

    api: str = field(init=False, default=API_NAME)


@dataclass
class HashbankCredentials(auth.CredentialHelper):
    """A hashbank API key with the `sync` scope (`hashbank-admin key issue PLATFORM -s sync`).

    Found, in order: credentials given to `for_collab` (HMA's stored
    `credential_json` `{"api_key": ...}`), the `TX_HASHBANK_API_KEY` environment
    variable, the file `~/.tx_hashbank_api_key` (the key alone; `chmod 600` it).
    The key never appears in a repr.
    """

    ENV_VARIABLE: t.ClassVar[str] = "TX_HASHBANK_API_KEY"
    FILE_NAME: t.ClassVar[str] = "~/.tx_hashbank_api_key"

    api_key: str = field(
        repr=False, metadata={"help": "hashbank API key with the sync scope (hbk_...)"}
    )

    @classmethod
    def _from_str(cls, s: str) -> "HashbankCredentials":
        """The key alone (environment variable, file, HMA's `flask auth --from-str`)."""
        return cls(api_key=s.strip())

    def _are_valid(self) -> bool:
        # Visible ASCII only: an HTTP header cannot carry whitespace or control characters.
        return bool(self.api_key) and all("!" <= c <= "~" for c in self.api_key)


@dataclass
class HashbankCheckpoint(state.FetchCheckpointBase):
    """How far the feed has been applied: `cursor` is the last applied page's `next_cursor`.

    Cursors never expire (the service keeps its whole change log), so a checkpoint
    is never stale. `base_url` records the server the cursor belongs to: a cursor
    is a position in one server's log and means nothing on another.
    """

    base_url: str
    cursor: str
    # The newest `changed_at` applied so far, in Unix seconds: what pytx shows as
    # progress. Kept as a running maximum, because both the CLI and HMA assert that
    # progress never goes back.
    latest_change_ts: int | None = None

    def get_progress_timestamp(self) -> int | None:
        return self.latest_change_ts


HashbankDelta = state.FetchDelta[RecordKey, HashbankSignalMetadata, HashbankCheckpoint]


class HashbankSignalExchangeAPI(
    auth.SignalExchangeWithAuth[HashbankCollabConfig, HashbankCredentials],
    signal_exchange_api.SignalExchangeAPIWithSimpleUpdates[
        HashbankCollabConfig, HashbankCheckpoint, HashbankSignalMetadata
    ],
):
    """hashbank's delta feed (`GET /v1/hashes/changes`) for pytx: adds and deletes.

    `fetch_iter` yields one `FetchDelta` per page of the feed, in order, each with
    the checkpoint after that page; a caller that stores a delta and its checkpoint
    together and resumes from the stored checkpoint never misses or repeats a
    change. A refused key raises `SignalExchangeAPIInvalidAuthException`.
    """

    def __init__(
        self,
        collab: HashbankCollabConfig,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.collab = collab
        self._api_key = api_key
        self._transport = transport  # tests only: an httpx.MockTransport

    @classmethod
    def get_name(cls) -> str:
        return API_NAME

    @staticmethod
    def get_config_cls() -> type[HashbankCollabConfig]:
        return HashbankCollabConfig

    @staticmethod
    def get_checkpoint_cls() -> type[HashbankCheckpoint]:
        return HashbankCheckpoint

    @staticmethod
    def get_record_cls() -> type[HashbankSignalMetadata]:
        return HashbankSignalMetadata

    @staticmethod
    def get_credential_cls() -> type[HashbankCredentials]:
        return HashbankCredentials

    @classmethod
    def for_collab(
        cls,
        collab: HashbankCollabConfig,
        credentials: HashbankCredentials | None = None,
    ) -> "HashbankSignalExchangeAPI":
        """An API for `collab`, its key checked with the service.

        Raises `SignalExchangeAPIMissingAuthException` when no key is found and
        `SignalExchangeAPIInvalidAuthException` when the service refuses it. The
        check is one request for a single change: pytx's contract asks for_collab
        to return a working, authenticated instance or raise, and the `threatexchange
        fetch` command reports only these two exceptions to the user (an exception
        from `fetch_iter` becomes a bare "failed to fetch!"). A service that cannot
        be reached is not an auth problem; that error comes from `fetch_iter`.
        """
        credentials = credentials or HashbankCredentials.get(cls)
        api = cls(collab, credentials.api_key)
        try:
            with api._client() as client:
                api._page(client, START_CURSOR, 1)
        except httpx.TransportError:
            pass
        return api

    @classmethod
    def naive_convert_to_signal_type(
        cls,
        signal_types: Sequence[type[SignalType]],
        collab: HashbankCollabConfig,
        fetched: Mapping[RecordKey, HashbankSignalMetadata | None],
    ) -> dict[type[SignalType], dict[str, HashbankSignalMetadata]]:
        """pytx's conversion, on records keyed by value (a video's key is its reference)."""
        return super().naive_convert_to_signal_type(signal_types, collab, by_value(fetched))

    def fetch_iter(
        self,
        supported_signal_types: Sequence[type[SignalType]],
        checkpoint: HashbankCheckpoint | None,
    ) -> Iterator[HashbankDelta]:
        """Every change after `checkpoint` (None: the whole feed), one delta per page.

        A page whose checkpoint equals the previous one (nothing new) is not
        yielded, except on a first fetch, so that even an empty feed leaves a
        checkpoint behind. Keys are `("pdq", hex)` or `("vpdq", video reference)`;
        within a page a later change to the same record replaces an earlier one.
        Raises `ValueError` when the checkpoint belongs to another server. Records
        are yielded whatever `supported_signal_types` says: pytx's stores
        drop the types they do not index when they convert records to signals.
        """
        server = _server(self.collab.base_url)
        if checkpoint is not None and _server(checkpoint.base_url) != server:
            raise ValueError(
                f"collaboration {self.collab.name!r} now reads {server}, but its fetched "
                f"state came from {_server(checkpoint.base_url)}: clear it and fetch again "
                "(threatexchange fetch --clear; on HMA, delete and recreate the exchange)"
            )
        cursor = START_CURSOR if checkpoint is None else checkpoint.cursor
        latest = None if checkpoint is None else checkpoint.latest_change_ts
        with self._client() as client:
            while True:
                page = self._page(client, cursor, PAGE_SIZE)
                for change in page.changes:
                    latest = max(latest or 0, _unix_seconds(change.changed_at))
                updates = page_updates(page.changes)
                after = HashbankCheckpoint(server, page.next_cursor, latest)
                if after != checkpoint:
                    yield state.FetchDelta(updates, after)
                    checkpoint = after
                if not page.has_more:
                    return
                if page.next_cursor == cursor:  # would ask for the same page forever
                    raise ServiceError(200, "invalid_response", "the feed did not advance")
                cursor = page.next_cursor

    def _client(self) -> PlatformClient:
        # A client per call, closed by its caller: pytx has no hook to close an API
        # instance, and an HTTP client left open would leak its connections.
        return PlatformClient(
            _server(self.collab.base_url), self._api_key, transport=self._transport
        )

    def _page(self, client: PlatformClient, cursor: str, limit: int) -> ChangesPage:
        """One page of the feed; a refused key becomes pytx's invalid-auth exception."""
        try:
            return client.changes(cursor, limit)
        except ServiceError as e:
            if e.status in (401, 403):
                raise auth.SignalExchangeAPIInvalidAuthException(
                    type(self),
                    f"{_server(self.collab.base_url)} refused the API key: {e.message} "
                    f"(HTTP {e.status}, {e.code}); it needs the sync scope",
                ) from e
            raise


def _unix_seconds(moment: datetime) -> int:
    # The service writes UTC; a timestamp without an offset is read as UTC too.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


TX_MANIFEST = ThreatExchangeExtensionManifest(apis=(HashbankSignalExchangeAPI,))
