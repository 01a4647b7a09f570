"""Bitcoin's issuance schedule, computed from block heights (never from dates)."""

from __future__ import annotations

HALVING_INTERVAL = 210_000
INITIAL_SUBSIDY_SATS = 50 * 100_000_000
SATS_PER_BTC = 100_000_000
MAX_SUPPLY_BTC = 21_000_000
DIFFICULTY_EPOCH = 2016
TARGET_BLOCK_SECONDS = 600


def subsidy_sats(height: int) -> int:
    """Block subsidy in satoshis at ``height``: 50 BTC halved every 210,000 blocks.

    Uses the consensus rule (integer right shift), so it reaches 0 after 64 halvings.
    """
    if height < 0:
        raise ValueError(f"block height must be >= 0, got {height}")
    halvings = height // HALVING_INTERVAL
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


def subsidy_btc(height: int) -> float:
    return subsidy_sats(height) / SATS_PER_BTC


def issuance_sats(first_height: int, last_height: int) -> int:
    """Sum of subsidies of blocks ``first_height..last_height`` inclusive (0 if empty)."""
    if last_height < first_height:
        return 0
    total = 0
    h = first_height
    while h <= last_height:
        era_end = (h // HALVING_INTERVAL + 1) * HALVING_INTERVAL - 1
        upto = min(era_end, last_height)
        total += (upto - h + 1) * subsidy_sats(h)
        h = upto + 1
    return total


def four_year_reward_btc(height: int) -> float:
    """Subsidy of the next 210,000 blocks after ``height`` (halvings inside included)."""
    return issuance_sats(height + 1, height + HALVING_INTERVAL) / SATS_PER_BTC
