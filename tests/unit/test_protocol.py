import pytest

from minerwatch import protocol as p


@pytest.mark.parametrize(
    ("height", "btc"),
    [
        (0, 50),
        (209_999, 50),
        (210_000, 25),
        (419_999, 25),
        (420_000, 12.5),
        (630_000, 6.25),
        (839_999, 6.25),
        (840_000, 3.125),
        (1_050_000, 1.5625),
    ],
)
def test_subsidy_halves_every_210000_blocks(height, btc):
    assert p.subsidy_btc(height) == btc


def test_subsidy_reaches_zero_and_supply_stays_below_21m():
    assert p.subsidy_sats(64 * 210_000) == 0
    assert p.subsidy_sats(33 * 210_000) == 0  # 5e9 >> 33 == 0
    total = p.issuance_sats(0, 64 * 210_000) / p.SATS_PER_BTC
    assert 20_999_999 < total < p.MAX_SUPPLY_BTC


def test_issuance_across_the_2024_halving_is_summed_by_height():
    # blocks 839,901..840,050: 99 at 6.25 + 51 at 3.125
    assert p.issuance_sats(839_901, 840_050) / 1e8 == 99 * 6.25 + 51 * 3.125
    assert p.issuance_sats(5, 4) == 0


def test_four_year_reward_includes_the_halving_inside_the_window():
    assert p.four_year_reward_btc(839_900) == 99 * 6.25 + 209_901 * 3.125
    assert p.four_year_reward_btc(840_000) == 209_999 * 3.125 + 1.5625
    # a window entirely inside one era
    assert p.four_year_reward_btc(630_000) == 209_999 * 6.25 + 3.125


def test_negative_height_is_rejected():
    with pytest.raises(ValueError, match="height"):
        p.subsidy_sats(-1)
