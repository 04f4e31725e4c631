"""Opaque case references for partners: stable per case, useless on any case route.

Partners may group a feed's hashes by case (StopNCII's `caseNumbers`), but a
case id is the survivor's: it is never shown to partners. Each case gets a
reference `r_` + HMAC-SHA256(deployment secret, internal case number), cut to
80 bits: the same for a case on every replica and every page, unrelated to the
case id, and no case route accepts it (they look cases up by case id only).
The secret is random, made once by a migration (0002) and
kept in the database.
"""

import hashlib
import hmac
import threading

from sqlalchemy.orm import Session

from service.store.db import Database
from service.store.models import PARTNER_REFS_SECRET, ServiceSecret


class PartnerRefs:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def of(self, session: Session, case_number: int) -> str:
        """The reference of the case with internal id `case_number`."""
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    row = session.get(ServiceSecret, PARTNER_REFS_SECRET)
                    if row is None:
                        raise RuntimeError("the partner reference secret is missing")
                    self._secret = row.value
        digest = hmac.new(self._secret, f"case:{case_number}".encode(), hashlib.sha256)
        return "r_" + digest.hexdigest()[:20]
