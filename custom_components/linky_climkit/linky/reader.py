"""One budgeted Conso API call of a Linky entry: spent from the shared budget, its outcome
noted, its answer parsed into the run's `Collected`, a history-limit answer given to the
ledger."""

from __future__ import annotations

from datetime import date

from homeassistant.util import dt as dt_util

from ..model import Series
from ..providers.conso_api import ConsoApiClient, ConsoApiType
from ..providers.errors import HistoryLimitError, NoDataError, NotAuthorisedError, ProviderError
from ..statistics.ledger import Ledger
from .adapter import PRODUCTION_TYPES, Collected, parse
from .budget import Priority
from .budget_store import EntryBudget
from .state import LinkyState


class ConsoApiReader:
    """Reads one PRM; `answered` counts the calls the service answered in the current run."""

    def __init__(
        self,
        client: ConsoApiClient,
        budget: EntryBudget,
        prm: str,
        state: LinkyState,
        ledger: Ledger,
    ) -> None:
        """Nothing is called here."""
        self.client = client
        self.budget = budget
        self.prm = prm
        self.state = state
        self.ledger = ledger
        self.answered = 0

    async def fetch(
        self, type_: ConsoApiType, start: date, end: date, priority: Priority, into: Collected
    ) -> Series | None:
        """One budgeted call, kept in `into`; None when the service has nothing there (yet)
        or refuses the range as outside its history (which the ledger remembers)."""
        await self.budget.async_spend(priority)
        outcome = self.state.outcome(type_)
        outcome.calls += 1
        now = dt_util.utcnow()
        try:
            payload = await self.client.fetch(type_, self.prm, start, end)
            series = parse(type_, payload, start, end)
        except HistoryLimitError as err:
            self.answered += 1
            outcome.last_success, outcome.last_error = now, type(err).__name__
            self.ledger.history.refused(start, end)
            return None
        except NoDataError as err:
            self.answered += 1
            outcome.last_success, outcome.last_error = now, type(err).__name__
            into.asked.append((type_, start, end))
            return None
        except NotAuthorisedError as err:
            outcome.last_error, outcome.last_error_at = str(err), now
            if type_ in PRODUCTION_TYPES:
                self.answered += 1
                # A PRM that produced before and is now refused lost its consent; at discovery
                # the same answer also means "no production" and is not a problem.
                self.state.production_refused = self.state.production is True
                self.state.production = False
                return None
            if type_ is ConsoApiType.PRODUCTION_INDEX:  # the production's registers only
                self.answered += 1
                return None
            raise
        except ProviderError as err:
            outcome.last_error, outcome.last_error_at = str(err), now
            raise
        self.answered += 1
        outcome.last_success, outcome.last_error = now, None
        self.state.missing_points += series.missing
        self.state.clamped_points += series.clamped
        self.state.count_dropped(series)
        into.add(series)
        into.asked.append((type_, start, end))
        return series
