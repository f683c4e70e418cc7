"""The in-process moving window (app/ratelimit/window.py), on a clock the test moves."""

from __future__ import annotations

from app.ratelimit.window import MovingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_amount_per_window_then_refused_until_the_oldest_leaves() -> None:
    clock = Clock()
    window = MovingWindow(3, 60, clock)
    answers = []
    for _ in range(3):
        answers.append(window.hit("a"))
        clock.now += 10
    assert [(allowed, remaining) for allowed, remaining, _ in answers] == [(True, 2), (True, 1), (True, 0)]
    allowed, remaining, reset = window.hit("a")  # at 1030: the first request (1000) is still counted
    assert (allowed, remaining, reset) == (False, 0, 1060.0)
    clock.now = 1060.5  # the first has left the window: one request again, not three
    assert window.hit("a")[:2] == (True, 0)
    assert window.hit("a")[0] is False
    assert window.hit("b")[:2] == (True, 2)  # every client has its own budget


def test_idle_clients_are_forgotten() -> None:
    clock = Clock()
    window = MovingWindow(30, 60, clock)
    for i in range(1000):
        window.hit(f"10.0.{i // 250}.{i % 250}")
    assert len(window) == 1000
    clock.now += 61
    window.hit("10.9.9.9")
    assert len(window) == 1  # the thousand idle ones are gone
