"""Opaque case references for partners: stable per case, useless on any case route.

Partners may group a feed's hashes by case (StopNCII's `caseNumbers`), but a
case id is the survivor's: it is never shown to partners. Each case gets a
reference `r_` + HMAC-SHA256(deployment secret, internal case number), cut to
80 bits: the same for a case on every replica and every page, unrelated to the
case id, and no case route accepts it (they look cases up by case id only).
The secret is random, made once by a migration (0002) and
kept in the database.

A video in the delta feed gets a reference of its own the same way (`v_`, from
the case number and the video's item number, domain-separated from case
references): a partner regroups a video's frames by it, and learns neither the
case nor which videos share one.
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
        return "r_" + self._digest(session, f"case:{case_number}")

    def video(self, session: Session, case_number: int, item: int) -> str:
        """The reference of one video (item `item` of the case `case_number`): `v_` and 80
        bits, unrelated to the case's reference and to its other videos' references."""
        return "v_" + self._digest(session, f"video:{case_number}:{item}")

    def _digest(self, session: Session, message: str) -> str:
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    row = session.get(ServiceSecret, PARTNER_REFS_SECRET)
                    if row is None:
                        raise RuntimeError("the partner reference secret is missing")
                    self._secret = row.value
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()[:20]
