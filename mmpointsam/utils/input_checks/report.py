"""The fault report every input check fills: :class:`FaultReport`, :class:`InputError` and
:func:`finish`, which ends a tool's check (raise, or print and exit with ``--check-only``)."""

import sys
from collections import Counter
from typing import Dict, List, Optional, Tuple

MAX_FAULTS = 20


class InputError(ValueError):
    """Input files a tool cannot use; the message lists each fault (file: record: fault)."""


class FaultReport:
    """The faults found in a tool's inputs and a count of what was checked.

    Args:
        limit: faults listed in the message; the rest are counted ("... and N more").
    """

    def __init__(self, limit: int = MAX_FAULTS) -> None:
        self.limit = limit
        self.faults: List[Tuple[str, Optional[str], str]] = []
        self.checked: Dict[str, int] = Counter()

    def add(self, file: str, fault: str, record: Optional[str] = None) -> None:
        """One fault: ``file``, the ``record`` in it (None: the file as a whole) and what is wrong
        (with the value found)."""
        self.faults.append((str(file), record, fault))

    def count(self, what: str, num: int = 1) -> None:
        """Say that ``num`` inputs of kind ``what`` (e.g. 'image files') were checked."""
        self.checked[what] += num

    def __len__(self) -> int:
        return len(self.faults)

    def lines(self) -> List[str]:
        return [
            f'{file}: {record}: {fault}' if record else f'{file}: {fault}'
            for file, record, fault in self.faults
        ]

    def message(self) -> str:
        lines = self.lines()
        if len(lines) == 1:
            return lines[0]
        shown = lines[: self.limit]
        text = f'{len(lines)} faults in the inputs:\n' + '\n'.join(f'  {line}' for line in shown)
        if len(lines) > len(shown):
            text += f'\n  ... and {len(lines) - len(shown)} more'
        return text

    def summary(self) -> str:
        """What was checked and found, e.g. 'inputs checked (1 point-label json, 130 image
        files): no fault'."""
        what = ', '.join(f'{n} {kind}' for kind, n in self.checked.items()) or 'nothing'
        if not self.faults:
            return f'inputs checked ({what}): no fault'
        return f'inputs checked ({what}):\n{self.message()}'

    def raise_if_any(self) -> None:
        if self.faults:
            raise InputError(self.message())


def finish(report: FaultReport, check_only: bool = False, tool: str = '') -> None:
    """End of a tool's input check: raise :class:`InputError` on faults; with ``check_only``
    print the outcome and exit (0: no fault, 1: faults) instead of going on."""
    if check_only:
        print(f'{tool}: {report.summary()}' if tool else report.summary())
        sys.exit(1 if report.faults else 0)
    report.raise_if_any()
