"""Non-finite values recorded on the device and reported at a point the caller chooses, on every rank alike.

Checking values on the host (``bool(tensor)``) stalls the CPU until the GPU catches up, on every environment step and
every minibatch. :class:`NonFiniteRecord` instead keeps, on the device, the first problem it was shown; GenPO reads it
once per update together with the losses it reads anyway. Under multi-GPU training every rank gathers every rank's
record before deciding, so all ranks raise the same error at the same point instead of one rank raising while the
others wait in the next collective until the watchdog ends them.
"""

from __future__ import annotations

import torch

ORIGINS = (
    ("flow samples", "are not finite after sampling the flow"),
    ("log-probs", "are not finite after inverting stored samples"),
    ("parameters", "are not finite after the update's last optimizer step"),
    (
        "entries of the 'scalar' latent noise std",
        "are not positive; use noise_std_type 'log', which keeps sigma positive",
    ),
)
"""What a record can name, by its index: the values concerned and what went wrong with them."""

SAMPLES, LOG_PROBS, PARAMETERS, SCALAR_NOISE = range(len(ORIGINS))
"""Indices into :data:`ORIGINS`."""

RECORD_SIZE = 3
"""Entries of a record: origin code (0: nothing recorded), number of bad values, number of values checked."""

OBSERVATIONS_FINITE, OBSERVATIONS_NOT_FINITE, NO_OBSERVATIONS = range(3)
"""What a record says about the observations the bad values were computed from."""

CODES_PER_ORIGIN = 3
"""Codes per origin, one per observation state: code = 1 + 3 * origin + observation state."""


class NonFiniteRecord:
    """Device-side record of the first bad values a model was shown, with the finiteness of their observations.

    :meth:`record` launches a few small kernels and never reads the device; :meth:`state` returns the record as a
    tensor of :data:`RECORD_SIZE` integers for the caller to read at a synchronization point it already has, and
    :func:`non_finite_message` turns what was read (from one or every rank) into an error message.
    """

    def __init__(self) -> None:
        """Start with nothing recorded."""
        self._state: torch.Tensor | None = None

    def record(self, origin: int, bad: torch.Tensor, obs: torch.Tensor | None = None) -> None:
        """Remember ``bad`` if it flags any value and nothing was recorded before.

        Args:
            origin: Index into :data:`ORIGINS`.
            bad: Boolean mask of the bad values (e.g. ``~torch.isfinite(values)``).
            obs: Observations the values were computed from, whose finiteness the message reports; None if none.
        """
        with torch.no_grad():
            num_bad = bad.sum()
            if obs is None:
                obs_state = torch.full_like(num_bad, NO_OBSERVATIONS)
            else:
                obs_state = (~torch.isfinite(obs)).any().long()
            code = obs_state + (1 + CODES_PER_ORIGIN * origin)
            entry = torch.stack([code, num_bad, torch.full_like(num_bad, bad.numel())])
            previous = self._state if self._state is not None else torch.zeros_like(entry)
            # only the first problem is kept: its origin names the cause, later ones are consequences
            self._state = torch.where((previous[0] == 0) & (num_bad > 0), entry, previous.to(entry.device))

    def state(self, device: torch.device | str) -> torch.Tensor:
        """The record as :data:`RECORD_SIZE` integers on ``device`` (zeros when nothing was recorded)."""
        if self._state is None:
            return torch.zeros(RECORD_SIZE, dtype=torch.long, device=device)
        return self._state.to(device)

    def clear(self) -> None:
        """Forget what was recorded."""
        self._state = None

    def raise_and_clear(self, owner: str) -> None:
        """Raise if anything was recorded, then forget it; reads the device once (a synchronization point).

        Args:
            owner: Name of the model, for the message.

        Raises:
            FloatingPointError: Naming what was not finite, after which operation, and whether the observations were
                finite.
        """
        message = non_finite_message([self.state("cpu").tolist()], owner)
        self.clear()
        if message is not None:
            raise FloatingPointError(message)


def non_finite_message(records: list[list[int]], owner: str) -> str | None:
    """Describe the recorded problems of every rank, or return None when there are none.

    Args:
        records: One record per rank, as read from :meth:`NonFiniteRecord.state` (a single one without multi-GPU).
        owner: Name of the model, for the message.
    """
    problems = []
    for rank, (code, num_bad, num_values) in enumerate(records):
        if code == 0:
            continue
        origin, obs_state = divmod(int(code) - 1, CODES_PER_ORIGIN)
        what, problem = ORIGINS[origin]
        where = f"rank {rank}: " if len(records) > 1 else ""
        observations = ""
        if obs_state != NO_OBSERVATIONS:
            observations = f" (observations finite: {obs_state == OBSERVATIONS_FINITE})"
        problems.append(f"{where}{int(num_bad)} of {int(num_values)} {what} {problem}{observations}")
    if not problems:
        return None
    return f"{owner}: " + "; ".join(problems) + ". Check the environment's observations and the learning rate."
