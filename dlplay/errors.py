"""Errors a user can cause. Pages show their message with st.error and keep working."""


class InputError(ValueError):
    """Something a user gave (a file, a setting, a name) cannot be used. The message says why, in plain words."""


class TrainingDiverged(InputError):
    """The loss became NaN or infinite; the run stopped and kept its last good weights."""
