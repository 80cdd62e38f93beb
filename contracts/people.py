"""People are identities, not names: how a participant is labelled wherever names can repeat.

Two people in one session may give the same name (three students called "Tina"). Every page,
report, CSV and view keeps them apart by their id and labels them with their name, numbered in
the order they joined when the name is not unique in the session: "Tina (1)", "Tina (2)".
"""

from __future__ import annotations


def label_sql(participant: str = "participants") -> str:
    """The label of each row of ``participant`` (a table name or alias over ``participants``)."""
    p = participant
    return (f"{p}.display_name || CASE "
            f"WHEN count(*) OVER (PARTITION BY {p}.session_id, {p}.display_name) = 1 THEN '' "
            f"ELSE ' (' || row_number() OVER (PARTITION BY {p}.session_id, {p}.display_name "
            f"ORDER BY {p}.joined_at, {p}.id) || ')' END")
