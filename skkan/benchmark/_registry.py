"""Name lookup shared by the data set and model registries."""

__all__ = ["lookup"]


def lookup(names, registry, entry_type, kind):
    """Entries of ``registry`` by name; instances of ``entry_type`` pass through.

    Parameters
    ----------
    names : str, entry_type or iterable of them
        A single name stands for itself (not for its letters).
    registry : dict
        Registered entries by name.
    entry_type : type
        Class of the entries (given directly, they are used as they are).
    kind : str
        What an entry is, for the error message ("data set", "model").
    """
    if isinstance(names, (str, entry_type)):
        names = [names]
    found = []
    for name in names:
        if isinstance(name, entry_type):
            found.append(name)
        elif name in registry:
            found.append(registry[name])
        else:
            raise ValueError(f"Unknown {kind} {name!r}; choose from {sorted(registry)}.")
    return found
