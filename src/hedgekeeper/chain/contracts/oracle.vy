# pragma version ~=0.4.3
"""
@title Price oracle with Chainlink aggregator semantics
@notice Rounds of (roundId, answer, startedAt, updatedAt, answeredInRound) read
        through latestRoundData / getRoundData, as AggregatorV3Interface. The
        answer is USD per coin with `decimals` decimals (8, as Chainlink's USD
        feeds); times are unix seconds. Only the updater, set by the owner, posts
        answers, and only when the update rule says one is due: the answer moved
        by at least deviation_threshold_bps from the latest, or heartbeat_s
        seconds passed since it was posted (or no round exists yet).
"""

event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256

event NewRound:
    roundId: indexed(uint256)
    startedBy: indexed(address)
    startedAt: uint256

event UpdaterSet:
    updater: indexed(address)

event UpdateRuleSet:
    deviation_threshold_bps: uint256
    heartbeat_s: uint256

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)

struct Round:
    answer: int256
    started_at: uint256
    updated_at: uint256

BPS: constant(uint256) = 10000

decimals: public(uint8)
description: public(String[64])
version: public(uint256)
owner: public(address)
updater: public(address)
deviation_threshold_bps: public(uint256)
heartbeat_s: public(uint256)
latestRound: public(uint80)
rounds: HashMap[uint80, Round]


@deploy
def __init__(decimals: uint8, description: String[64], deviation_threshold_bps: uint256, heartbeat_s: uint256):
    """
    @param decimals decimals of the answer (8 for a Chainlink USD feed)
    @param description the pair, e.g. "ETH / USD"
    @param deviation_threshold_bps a move of at least this much (bps of the latest answer) makes an update due
    @param heartbeat_s an update is due once the latest answer is this many seconds old
    """
    self.decimals = decimals
    self.description = description
    self.version = 4
    self.owner = msg.sender
    self.updater = msg.sender
    self.deviation_threshold_bps = deviation_threshold_bps
    self.heartbeat_s = heartbeat_s
    log UpdaterSet(updater=msg.sender)
    log UpdateRuleSet(deviation_threshold_bps=deviation_threshold_bps, heartbeat_s=heartbeat_s)


@internal
@view
def _deviation_bps(answer: int256) -> uint256:
    last: int256 = self.rounds[self.latestRound].answer
    if last == 0:
        return max_value(uint256)
    return convert(abs(answer - last), uint256) * BPS // convert(abs(last), uint256)


@external
@view
def deviation_bps(answer: int256) -> uint256:
    """
    @notice Return how far answer lies from the latest answer, bps of the latest (rounded down).
    """
    return self._deviation_bps(answer)


@internal
@view
def _is_update_due(answer: int256) -> bool:
    if self.latestRound == 0:
        return True
    if block.timestamp >= self.rounds[self.latestRound].updated_at + self.heartbeat_s:
        return True
    return self._deviation_bps(answer) >= self.deviation_threshold_bps


@external
@view
def is_update_due(answer: int256) -> bool:
    """
    @notice Return whether posting answer now follows the rule (deviation or heartbeat).
    @param answer USD per coin with `decimals` decimals
    """
    return self._is_update_due(answer)


@external
def submit(answer: int256) -> uint80:
    """
    @notice Post a new answer as a new round; the updater only, and only when due.
    @param answer USD per coin with `decimals` decimals, > 0
    @return the new round's id
    """
    assert msg.sender == self.updater, "oracle: only the updater submits"
    assert answer > 0, "oracle: answer must be positive"
    assert self._is_update_due(answer), "oracle: update not due (deviation below threshold, heartbeat not reached)"
    round_id: uint80 = self.latestRound + 1
    self.latestRound = round_id
    self.rounds[round_id] = Round(answer=answer, started_at=block.timestamp, updated_at=block.timestamp)
    log NewRound(roundId=convert(round_id, uint256), startedBy=msg.sender, startedAt=block.timestamp)
    log AnswerUpdated(current=answer, roundId=convert(round_id, uint256), updatedAt=block.timestamp)
    return round_id


@internal
@view
def _round(round_id: uint80) -> (uint80, int256, uint256, uint256, uint80):
    assert round_id > 0 and round_id <= self.latestRound, "oracle: no data present"
    r: Round = self.rounds[round_id]
    return round_id, r.answer, r.started_at, r.updated_at, round_id


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Return the latest round: (roundId, answer, startedAt, updatedAt, answeredInRound).
    @dev answer has `decimals` decimals; startedAt and updatedAt are unix seconds.
    """
    return self._round(self.latestRound)


@external
@view
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Return round _roundId: (roundId, answer, startedAt, updatedAt, answeredInRound).
    """
    return self._round(_roundId)


@external
@view
def latestAnswer() -> int256:
    """
    @notice Return the latest answer, USD per coin with `decimals` decimals.
    """
    return self.rounds[self.latestRound].answer


@external
@view
def latestTimestamp() -> uint256:
    """
    @notice Return when the latest answer was posted, unix seconds.
    """
    return self.rounds[self.latestRound].updated_at


@external
def set_updater(updater: address):
    """
    @notice Give the updater role to updater; the owner only.
    """
    assert msg.sender == self.owner, "oracle: only the owner"
    self.updater = updater
    log UpdaterSet(updater=updater)


@external
def set_update_rule(deviation_threshold_bps: uint256, heartbeat_s: uint256):
    """
    @notice Set the deviation threshold (bps) and heartbeat (seconds); the owner only.
    """
    assert msg.sender == self.owner, "oracle: only the owner"
    self.deviation_threshold_bps = deviation_threshold_bps
    self.heartbeat_s = heartbeat_s
    log UpdateRuleSet(deviation_threshold_bps=deviation_threshold_bps, heartbeat_s=heartbeat_s)


@external
def transfer_ownership(new_owner: address):
    """
    @notice Hand the owner role to new_owner; the owner only.
    """
    assert msg.sender == self.owner, "oracle: only the owner"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner
