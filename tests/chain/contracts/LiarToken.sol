// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity ^0.8.20;

/// A token that lies: it emits ERC-20 Transfer events, but `symbol()` reverts and `decimals()`
/// answers an absurd number. The look-up must still show the transfer (with raw amounts).
contract LiarToken {
    event Transfer(address indexed from, address indexed to, uint256 value);

    function symbol() external pure returns (string memory) {
        revert("no symbol");
    }

    function decimals() external pure returns (uint256) {
        return 2 ** 200;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
