"""CCs: the people a ticket copies, by email address, and how an address is written.

A CC is an address, lower-cased and stripped (as inbound mail reads a sender's,
:mod:`mail.headers`), so the same person is one CC however their address was typed.
A CC who is a member of the ticket's account is also known by their member id (they
then see the ticket as its requester's colleagues do not); anyone else is known to
the emails only, as :func:`outside_cc_id` names them.
"""

from __future__ import annotations

from domain.contact import checked_email
from domain.errors import InvalidField
from domain.messages import Msg
from domain.vocabulary import NAME_MAX_CHARS

OUTSIDE_PREFIX = "cc:"
NOT_IN_ADDRESS = frozenset('<>()[],;:\\"')
"""Characters that make one typed value more than one plain address (a display name, a
list, a quoted local part): refused, so what is stored is what is mailed."""


def normalised_address(value: str) -> str:
    """The address as a CC is kept: stripped and lower-cased (no check)."""
    return value.strip().lower() if isinstance(value, str) else ""


def checked_cc_address(value: str) -> str:
    """The address, normalised, if it is one plain address an email can be sent to."""
    if not isinstance(value, str):
        raise InvalidField("email", Msg("email must be an email address, e.g. ana@example.com."))
    address = normalised_address(value)
    checked_email(address)
    if (
        len(address) > NAME_MAX_CHARS
        or any(c in NOT_IN_ADDRESS or not c.isprintable() or c.isspace() for c in address)
        or address.count("@") != 1
        or address.startswith(".")
        or address.endswith(".")
        or ".." in address.partition("@")[2]
    ):
        raise InvalidField(
            "email",
            Msg(
                "{address} is not one plain email address; write it as ana@example.com.",
                address=repr(value),
            ),
        )
    return address


def outside_cc_id(address: str) -> str:
    """How a CC who is no member of the ticket's account is known as a person:
    ``cc:<address>`` (as the author of what they write, and among an email's recipients)."""
    return OUTSIDE_PREFIX + normalised_address(address)


def is_outside_cc_id(person_id: str) -> bool:
    return person_id.startswith(OUTSIDE_PREFIX)
