"""Character edit distance (Levenshtein: insertions, deletions and substitutions of one character each), for
the `edit` kind's rule that an edit must change at least `Campaign.min_edit_distance` characters (Aya's was 5).

Pure Python, with no library: the shared prefix and suffix are cut first (an edit usually changes a few places
of a long answer), then one row of the dynamic programme is kept, so memory is linear and time is the product
of the two lengths of what differs."""


def levenshtein(a: str, b: str) -> int:
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
