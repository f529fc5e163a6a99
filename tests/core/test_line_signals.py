"""Line shortening keeps the line that stands out: a rare shape in a uniform log, the largest
entry of a listing, and never singles out lines of text that has no usual shape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import Headroom
from headroom.transforms.line_signals import numeric_extreme_lines, rare_shape_lines
from tests.core.test_transforms import compressed_tool, tool_request

TEXT_LINES = {"bash": {"text_lines": True}}


def brute_force_log(accepted_at: int, n: int = 1500) -> list[str]:
    users = ["admin", "test", "oracle", "guest", "user1", "pi"]
    lines = []
    for i in range(n):
        head = f"Dec 10 07:{i % 60:02d}:0{i % 3} bastion sshd[{20000 + i}]:"
        ip, user = f"5.188.{i % 250}.{(i * 7) % 250}", users[i % 6]
        if i == accepted_at:
            lines.append(f"{head} Accepted password for fztu from {ip} port 49116 ssh2")
        elif i % 3 == 0:
            lines.append(f"{head} Invalid user {user} from {ip}")
        elif i % 3 == 1:
            lines.append(f"{head} Failed password for invalid user {user} from {ip} port 22 ssh2")
        else:
            lines.append(f"{head} Received disconnect from {ip}: 11: Bye Bye [preauth]")
    return lines


def test_the_one_successful_login_survives_line_shortening() -> None:
    lines = brute_force_log(accepted_at=917)
    assert 917 in rare_shape_lines(lines)
    question = "Did any of these brute-force attempts get in? Which account?"
    plan = Headroom().simulate(
        tool_request("\n".join(lines), question, name="bash"), tool_profiles=TEXT_LINES
    )
    sent = compressed_tool(plan)
    assert "Accepted password for fztu" in sent
    # every failure line is kept too (the spec keeps error and warning lines); the rest goes
    assert "lines omitted]" in sent and len(sent) < 0.75 * len("\n".join(lines))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1499))
def test_a_rare_line_is_found_wherever_it_is(position: int) -> None:
    assert position in rare_shape_lines(brute_force_log(position))


def tree_listing() -> list[str]:
    sizes = [(i * 7919) % 5000 + 10 for i in range(800)]
    sizes[613] = 982_117
    return [
        f"100644 blob {i:040x} {size:>8} tests/ReplayData/Case{i}.txt"
        for i, size in enumerate(sizes)
    ]


def test_the_largest_file_of_a_listing_survives() -> None:
    lines = tree_listing()
    assert 613 in numeric_extreme_lines(lines)
    plan = Headroom().simulate(
        tool_request("\n".join(lines), "What is the single largest file?", name="bash"),
        tool_profiles=TEXT_LINES,
    )
    assert "tests/ReplayData/Case613.txt" in compressed_tool(plan)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=20, max_size=200))
def test_text_without_a_usual_shape_has_no_rare_lines(lines: list[str]) -> None:
    unique = [f"{word} item {i}" for i, word in enumerate(lines)]
    # every line its own shape: nothing to deviate from
    distinct = [f"w{'x' * (i % 97)}{chr(97 + i % 26)} note" for i in range(len(unique))]
    assert rare_shape_lines(distinct) == set()
    # whatever the text, the result is a set of valid indices
    assert all(0 <= i < len(lines) for i in rare_shape_lines(lines))
    assert all(0 <= i < len(lines) for i in numeric_extreme_lines(lines))


def test_every_far_outlier_of_a_listing_column_is_found() -> None:
    lines = [f"GET /api/items/{i} 200 {100 + i % 17}ms {40 + i % 9}" for i in range(1000)]
    for i in (200, 500, 800):
        lines[i] = f"GET /api/items/{i} 200 {100 + i % 17}ms {30_000 + i}"
    assert {200, 500, 800} <= numeric_extreme_lines(lines)
