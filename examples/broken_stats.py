"""Small statistics helpers, with one syntax error for `hc fix` to repair."""


def mean(values):
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)


def variance(values):
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / (len(values) - 1


def summary(values):
    return {"mean": mean(values), "variance": variance(values)}
