"""Fast scans against the simple forms they replace: the same answers on any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headroom.analysis import _BASE64, _may_hold_base64

_B64_TEXT = st.text(
    alphabet=st.sampled_from(list("Ab9+/=") + [" ", "\n", "é", "\ud800", "-", "漢"]),
    max_size=700,
)


@given(st.integers(min_value=0, max_value=400), _B64_TEXT, _B64_TEXT)
def test_base64_prefilter_never_hides_a_blob(run: int, before: str, after: str) -> None:
    text = before + "QUJD" * (run // 4) + after
    if _BASE64.search(text) is not None:
        assert _may_hold_base64(text)
    if not _may_hold_base64(text):
        assert _BASE64.search(text) is None


def test_base64_prefilter_passes_a_real_blob_and_skips_prose() -> None:
    blob = "data:image/png;base64," + "iVBORw0KGgo" * 40
    assert _may_hold_base64(f"see {blob} here")
    assert not _may_hold_base64("plain prose " * 1000)
    assert not _may_hold_base64("é" * 300)
