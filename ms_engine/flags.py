"""Command-line words as a program's parser reads them: positionals and flags with their values.

vLLM (argparse) keeps the last value of a repeated flag, so merging container args by plain
concatenation lets a BaseConfig flag silently beat the ModelService's. Reading the words as
flags lets the merge replace a flag in place and lets the wiring checks read the value that
takes effect.

The reading rule, stated for users in docs/user-guide.md: a word starting with `-` (not a
negative number) is a flag; `--flag=value` carries its value; otherwise a following word that is
not a flag is the flag's value. Everything after a lone `--` is positional.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER = re.compile(r"^-\d|^-\.\d")


@dataclass(frozen=True)
class Item:
    """One positional word, or one flag with the words that spell it (`--f v` or `--f=v`)."""

    words: tuple[str, ...]
    flag: str | None = None

    @property
    def value(self) -> str | None:
        if self.flag is None:
            return None
        if len(self.words) == 2:
            return self.words[1]
        first = self.words[0]
        return first.split("=", 1)[1] if "=" in first else None


def is_flag(word: str) -> bool:
    return word.startswith("-") and word != "-" and not _NUMBER.match(word)


def read(words: Sequence[str]) -> list[Item]:
    """The words as items, in order."""
    items: list[Item] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            items.extend(Item((rest,)) for rest in words[index:])
            break
        if not is_flag(word):
            items.append(Item((word,)))
            index += 1
        elif word.startswith("--") and "=" in word:
            items.append(Item((word,), word.split("=", 1)[0]))
            index += 1
        elif index + 1 < len(words) and not is_flag(words[index + 1]) and words[index + 1] != "--":
            items.append(Item((word, words[index + 1]), word))
            index += 2
        else:
            items.append(Item((word,), word))
            index += 1
    return items


def effective_value(words: Sequence[str], flag: str) -> str | None:
    """The value `flag` takes: its last occurrence's (argparse keeps the last)."""
    value = None
    for item in read(words):
        if item.flag == flag:
            value = item.value
    return value


def merge_args(base: Sequence[str], head: Sequence[str]) -> list[str]:
    """`head` (the ModelService's args) over `base` (the BaseConfig's).

    - head's positionals come first, unless base's positionals already start with them;
    - a head flag replaces every occurrence of that flag in base, at the first one's place
      (a flag head repeats stays together, in head's order);
    - head flags base lacks follow base's leading positionals (after the program's own
      positionals, so a boolean flag never reads a positional as its value);
    - base's other words are kept, in order.

    Merging the same head twice equals merging it once.
    """
    head_items = read(head)
    base_items = read(base)
    head_positionals = [item for item in head_items if item.flag is None]
    by_flag: dict[str, list[Item]] = {}
    for item in head_items:
        if item.flag is not None:
            by_flag.setdefault(item.flag, []).append(item)

    lead = 0
    while lead < len(base_items) and base_items[lead].flag is None:
        lead += 1
    base_lead, base_rest = base_items[:lead], base_items[lead:]
    base_positionals = [item for item in base_items if item.flag is None]
    if base_positionals[: len(head_positionals)] == head_positionals:
        head_positionals = []

    present = {item.flag for item in base_items if item.flag is not None}
    rest: list[Item] = []
    placed: set[str] = set()
    for item in base_rest:
        if item.flag is not None and item.flag in by_flag:
            if item.flag not in placed:
                rest.extend(by_flag[item.flag])
                placed.add(item.flag)
            continue
        rest.append(item)
    new_flags = [item for flag, group in by_flag.items() if flag not in present for item in group]
    ordered = [*head_positionals, *base_lead, *new_flags, *rest]
    return [word for item in ordered for word in item.words]
