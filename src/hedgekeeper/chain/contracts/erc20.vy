# pragma version ~=0.4.3
"""
@title Test ERC-20 token
@notice A plain ERC-20 whose owner mints: WETH with 18 decimals, USDC with 6.
        Amounts are in the token's base units (10**decimals per whole token).
@dev An allowance of max_value(uint256) is never decreased (infinite approval).
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

name: public(String[32])
symbol: public(String[16])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
owner: public(address)


@deploy
def __init__(name: String[32], symbol: String[16], decimals: uint8):
    """
    @param name the token's name, e.g. "Wrapped Ether"
    @param symbol its ticker, e.g. "WETH"
    @param decimals base units per token as a power of ten (18 for WETH, 6 for USDC)
    """
    self.name = name
    self.symbol = symbol
    self.decimals = decimals
    self.owner = msg.sender


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "erc20: transfer to the zero address"
    balance: uint256 = self.balanceOf[sender]
    assert balance >= amount, "erc20: insufficient balance"
    self.balanceOf[sender] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move amount (base units) from the caller to receiver.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move amount (base units) from sender to receiver within the caller's allowance.
    """
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "erc20: insufficient allowance"
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let spender move up to amount (base units) of the caller's tokens.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create amount (base units) for receiver; the owner only.
    """
    assert msg.sender == self.owner, "erc20: only the owner mints"
    assert receiver != empty(address), "erc20: mint to the zero address"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)
