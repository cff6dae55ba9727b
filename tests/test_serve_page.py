"""The page at `/` in headless Chromium (Debian's `chromium`, driven by Playwright, which never
downloads a browser of its own): type a sentence, submit, see the badge, the reasoning parts,
the gauge and the history. A screenshot is kept in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from emoreason.generation import Completion, SamplingParams
from emoreason.serve import ModelInfo, ServerThread, ServeSettings, create_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class SentimentEngine:
    """A scripted model that writes well-formed C2F answers (positive when the text says "love").
    Its reasoning carries markup, which the page must show as text, not run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def generate(self, conversations, params: SamplingParams, progress=None):
        time.sleep(0.05)
        out = []
        for conversation in conversations:
            text = conversation.messages[-1]["content"]
            if "love" in text:
                answer = (
                    '<polarity>positive</polarity><think>Text: "loved" and "superb" are strongly positive '
                    "words.\n\nCombined: one clear, warm signal; nothing pulls the other way.</think>"
                    "<score>3.2</score>"
                )
            else:
                answer = (
                    "<polarity>negative</polarity><think>Text: the battery <b>died</b> and nobody answered."
                    "\n\nCombined: frustration throughout.</think><score>-2.6</score>"
                )
            out.append(
                [
                    Completion(
                        text=answer,
                        token_ids=list(range(30)),
                        logprobs=[0.0] * 30,
                        finish_reason="stop",
                        prompt_tokens=120,
                    )
                ]
            )
        return out


@pytest.fixture(scope="module")
def browser():
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium found (make install runs `apt-get install -y chromium` as root)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


def open_page(browser, url: str):
    """The served page, loaded (its options fetched), and the list its console errors go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto(url + "/")
    page.wait_for_selector("#task option[value=vader]", state="attached")
    return page, console_errors


def test_the_page_offers_media_a_text_model_is_told_about_as_cue_text(browser) -> None:
    app = create_app(SentimentEngine(), ModelInfo(id="scripted-c2f", family="causal_lm"), ServeSettings())
    with ServerThread(app) as server:
        page, console_errors = open_page(browser, server.url)
        assert not page.is_disabled(".file[data-kind=audio] input")
        assert "audio, image, video measured and given as cue text" in page.inner_text("#media-hint")
        assert console_errors == []


def test_the_page_shows_badge_reasoning_gauge_and_history(browser) -> None:
    app = create_app(SentimentEngine(), ModelInfo(id="scripted-c2f", family="causal_lm"), ServeSettings(cues="off"))
    with ServerThread(app) as server:
        page, console_errors = open_page(browser, server.url)
        assert "scripted-c2f" in page.inner_text("#model-line")
        assert page.is_disabled(".file[data-kind=image] input")  # a text-only model that measures no media
        assert "takes text only" in page.inner_text("#media-hint")

        page.fill("#text", "The battery died after two days and customer service never answered.")
        page.click("#submit")
        page.wait_for_selector("#badge.negative")
        page.fill("#text", "I absolutely loved this film, the acting was superb.")
        page.click("#submit")
        page.wait_for_selector("#badge.positive")

        assert page.inner_text("#badge") == "POSITIVE"
        titles = page.locator(".part h3").all_inner_texts()
        assert [t.lower() for t in titles] == ["text", "combined"]
        assert "strongly positive" in page.locator(".part p").first.inner_text()
        assert page.locator("#gauge-box svg").count() == 1
        assert "score 3.2" in page.inner_text("#gauge-box")
        assert page.inner_text("#parse-status") == "parsed"
        assert "round trip" in page.inner_text("#meta")
        assert page.locator("#history tr").count() == 2

        page.locator("#history tr").nth(1).click()  # the earlier, negative analysis
        page.wait_for_selector("#badge.negative")
        first_part = page.locator(".part p").first
        assert "<b>died</b>" in first_part.inner_text() and first_part.locator("b").count() == 0  # shown, not run
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "serve_page.png"
        page.locator("#history tr").nth(0).click()
        page.wait_for_selector("#badge.positive")
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
        assert not console_errors, console_errors
        page.close()


class CitingEngine:
    """A scripted model in the lexicon teacher's words: a positive and a negative cue from the
    sentence, a modifier, and a word that is not in it; its number for "loved" is a point below
    VADER's (+2.9, raters' sd 0.70), and it gives one to "slow", which VADER does not rate."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def generate(self, conversations, params: SamplingParams, progress=None):
        answer = (
            '<polarity>positive</polarity><think>Text: Positive cues: "loved" (+1.9), strengthened by "really". '
            'Negative cues: "slow" (-1.1). Positive cues: "thanks" (+1.9).\n\nCombined: the positive side weighs '
            "more.</think><score>2.1</score>"
        )
        completion = Completion(text=answer, token_ids=[1] * 30, logprobs=[0.0] * 30, finish_reason="stop")
        return [[completion] for _ in conversations]


def test_the_page_marks_the_cited_evidence_in_the_input(browser) -> None:
    app = create_app(CitingEngine(), ModelInfo(id="scripted-citing", family="causal_lm"), ServeSettings())
    with ServerThread(app) as server:
        page, console_errors = open_page(browser, server.url)
        page.fill(
            "#text", "😀 I really LOVED it, though the start was slow."
        )  # an emoji before: offsets in code points
        page.click("#submit")
        page.wait_for_selector("#evidence-text mark")

        marks = page.locator("#evidence-text mark")
        assert [marks.nth(i).inner_text() for i in range(marks.count())] == ["really", "LOVED", "slow"]
        assert page.locator("#evidence-text mark.evidence.positive").inner_text() == "LOVED"
        assert page.locator("#evidence-text mark.evidence.negative").inner_text() == "slow"
        assert page.locator("#evidence-text mark.evidence.unstated").inner_text() == "really"
        assert page.inner_text("#evidence-text") == "😀 I really LOVED it, though the start was slow."
        assert page.locator("#not-found .cited").all_inner_texts() == ['"thanks"']
        assert page.locator("#negations li.doubt").all_inner_texts() == [
            "Rated by the chain outside its VADER raters' spread: \"loved\" +1.9 (VADER +2.9, raters' sd 0.70)",
            'Given a number by the chain, not rated by the VADER lexicon: "slow" -1.1',  # VADER lacks "slow"
        ]
        background = page.locator("#evidence-text mark.positive").evaluate(
            "node => getComputedStyle(node).backgroundColor"
        )
        assert background == "rgb(187, 247, 208)"  # coloured, not just tagged
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#result").screenshot(path=str(ARTIFACTS / "serve_page_evidence.png"))
        assert not console_errors, console_errors
        page.close()


def test_the_page_shows_what_moves_the_judgment_when_asked(browser, tiny_models, monkeypatch) -> None:
    """The "What moves it" box asks for the record's attribution; the page lists the largest shifts each
    way, as `analyze --attribute` does, marking the words the chain does not cite."""
    import emoreason.inference
    from emoreason.metrics.attribution import WordShift
    from emoreason.models import load_model

    class WeightedCitingEngine(CitingEngine):  # the scripted answer, with weights to attribute on
        loaded = load_model(str(tiny_models["causal_lm"]))

    def shifts(loaded, samples, fmt, task, cue_text, batch_size, progress=None):
        text = samples[0].text  # "I really LOVED it, though the start was slow."
        at = {word: text.index(word) for word in ("LOVED", "though", "slow.", "it,")}
        made = [("LOVED", 0.61), ("though", 0.12), ("slow.", -0.2), ("it,", 0.01)]
        return [[WordShift(w, at[w], at[w] + len(w), shift, {}) for w, shift in made]]

    monkeypatch.setattr(emoreason.inference, "attribute_words", shifts)
    app = create_app(WeightedCitingEngine(), ModelInfo(id="scripted-citing", family="causal_lm"), ServeSettings())
    with ServerThread(app) as server:
        page, console_errors = open_page(browser, server.url)
        page.fill("#text", "I really LOVED it, though the start was slow.")
        page.click("#submit")
        page.wait_for_selector("#evidence-text mark")
        assert "What moves it" not in page.inner_text("#negations")  # not asked
        page.check("#attribute")
        page.click("#submit")
        page.wait_for_selector("#negations li:has-text('What moves it')")
        line = page.locator("#negations li", has_text="What moves it").inner_text()
        assert line.endswith(
            'toward positive "LOVED" +0.61, "though" +0.12 (not cited); toward negative "slow." -0.20'
        ), line
        assert not console_errors, console_errors
        page.close()
