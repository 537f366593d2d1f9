"""A synchronous driver for one durable-rules ruleset (the stream engine's Rete core).

durable-rules' own Python host (``durable.engine.Host``) starts two timer threads per host
that poll every ruleset every 0.2 s and run pending actions on *their* thread; it swallows
exceptions raised by actions (``c.s.exception``) and its ``post_batch`` returns before the
actions ran. None of that suits a deterministic monitor, so this module drives the
engine's C core (``durable_rules_engine``, shipped by the durable-rules package) directly:
assert one event, then run every action it made ready, on the caller's thread, before
returning. The rule definitions are durable-rules' own JSON ruleset format.

durable-rules facts this module works around (2.0.28, measured):

- A ruleset holds at most 1024 sids (``MAX_STATE_INDEX_LENGTH``); the 1025th raises
  ``MemoryError``. Subjects are therefore spread over a fixed number of partition sids and
  joined on their key inside a partition.
- Messages are identified by a 32-bit FNV hash of their ``id`` within a sid: a new id
  whose hash equals a live message's is refused as "already observed". Ids here are
  generated, so a refused id is retried with the next one (counted in ``collisions``).
- The C core keeps every ruleset in a process-wide table of 131,072 handles until
  ``delete_ruleset`` is called; the Python host never calls it. :meth:`close` does.

The durable-rules package is imported lazily: importing this module does not need it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["EventVerdict", "RulesetDriver", "load_engine"]

#: durable-rules' status codes for asserted messages (rules.h).
_OK: Final = 0
_NOT_HANDLED: Final = 1
_OBSERVED: Final = 2
_DEFERRED: Final = 3
#: How many fresh ids to try when durable-rules reports an id-hash collision.
_MAX_ID_RETRIES: Final = 16

#: An action: the matched messages by alias -> facts to assert in the same partition.
Action = Callable[[dict[str, Any]], list[dict[str, Any]] | None]

#: What became of one posted event: "handled" (a rule fired), "unmatched" (no rule).
EventVerdict = str


def load_engine() -> Any:
    """Import durable-rules' C core, or raise ModuleNotFoundError naming the extra."""
    try:
        return importlib.import_module("durable_rules_engine")
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        msg = (
            "the stream engine needs durable-rules: install vbp-rules[stream] "
            "(durable-rules>=2.0.28 builds a C extension; it does not build on every "
            "Python, e.g. 3.13 with gcc 14)"
        )
        raise ModuleNotFoundError(msg, name="durable_rules_engine") from exc


class RulesetDriver:
    """One durable-rules ruleset, fed one event at a time, actions run synchronously.

    Args:
        name: the ruleset's name (unique per process by convention; see the module doc).
        definition: durable-rules ruleset JSON: ``{rule: {"all": [...]}}``.
        actions: the Python action of each rule, by rule name.
    """

    def __init__(
        self, name: str, definition: Mapping[str, Any], actions: Mapping[str, Action]
    ) -> None:
        self._engine = load_engine()
        self.name = name
        self._actions = dict(actions)
        missing = set(definition) - set(self._actions)
        if missing:
            msg = f"no action for durable rules {sorted(missing)}"
            raise ValueError(msg)
        self._handle: int | None = self._engine.create_ruleset(name, json.dumps(definition))
        self._next_id = 0
        self.collisions = 0
        self.events = 0
        self.sids: set[str] = set()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` freed the ruleset."""
        return self._handle is None

    def _fresh_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _assert(self, kind: str, message: dict[str, Any]) -> tuple[int, int]:
        engine = self._engine
        call = engine.assert_event if kind == "event" else engine.assert_fact
        for _ in range(_MAX_ID_RETRIES):
            message["id"] = self._fresh_id()
            result: tuple[int, int] = call(self._handle, json.dumps(message))
            if result[0] != _OBSERVED:
                return result
            self.collisions += 1
        msg = f"durable-rules refused {_MAX_ID_RETRIES} fresh ids for one message"
        raise RuntimeError(msg)  # pragma: no cover - 16 hash collisions in a row

    def post(self, sid: str, event: dict[str, Any]) -> bool:
        """Assert ``event`` in partition ``sid`` and run every action it made ready.

        Returns:
            True if some rule took the event, False if none matched it.

        Raises:
            RuntimeError: the monitor was closed.
            Exception: whatever an action raised (after the engine was told the action
                finished, so the ruleset stays consistent).
        """
        if self._handle is None:
            msg = f"ruleset {self.name} is closed"
            raise RuntimeError(msg)
        self.events += 1
        self.sids.add(sid)
        event["sid"] = sid
        status, state = self._assert("event", event)
        if status == _NOT_HANDLED:
            return False
        if status == _DEFERRED:  # pragma: no cover - only with queue callbacks (unused)
            return True
        self._run_actions(sid, state)
        return True

    def _run_actions(self, sid: str, state: int) -> None:
        engine = self._engine
        result = engine.start_action_for_state(self._handle, state)
        if not result:
            return
        pending = result[1]
        error: BaseException | None = None
        while pending:
            for rule, matched in json.loads(pending).items():
                if error is None:
                    try:
                        facts = self._actions[rule](matched)
                    except Exception as exc:  # re-raised once the engine is told
                        error = exc
                        facts = None
                    for fact in facts or ():
                        fact["sid"] = sid
                        self._assert("fact", fact)
            pending = engine.complete_and_start_action(self._handle, state)
        if error is not None:
            raise error

    def facts(self, sid: str) -> list[dict[str, Any]]:
        """The facts durable-rules holds in a partition (for tests and debugging)."""
        if self._handle is None or sid not in self.sids:
            return []
        out: list[dict[str, Any]] = json.loads(self._engine.get_facts(self._handle, sid))
        return out

    def close(self) -> None:
        """Free the ruleset's states and the ruleset itself in durable-rules' C core."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        for sid in sorted(self.sids):
            try:
                self._engine.delete_state(handle, sid)
            except Exception:  # noqa: S112 - best effort; the ruleset goes next
                continue
        self._engine.delete_ruleset(handle)
