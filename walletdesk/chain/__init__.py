"""On-chain context: transaction look-ups, linked addresses, monitoring, risk rules and alerts.

Sits beside the connectors and chat: it reads and changes tickets only through
`tickets.actions`, and nothing below it imports it.
"""
