"""`scripts/bench`: the integration's promises (calls, rows, time, loop lag, memory) measured
against the simulators and a real recorder (SQLite file), compared with Home Assistant's own
recorder floor measured in the same run."""
