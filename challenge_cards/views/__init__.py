"""Pages for deputy secretaries, delegates and OMB admins, one module per use case.

Thin: forms check the input's shape, selectors read, one service call writes and decides.
"""
