"""The agent in the shopper's language: Hindi (Devanagari), Persian, Russian and Hebrew
messages read into intents and slots, and answers written in the message's language."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.agent import reply
from app.agent.intents import IntentClassifier
from app.language.reading import in_english, language_of
from app.agent.slots import extract_slots, price_direction
from app.agent.tools import Found
from app.agent.turn import Outcome, Turn
from app.search.constraints import Filters
from tests.support.vocabulary import demo_vocabulary

CARDS = [
    {"sku": "A", "title": "Ruby Silk Saree", "brand": "Chandbagh", "price": 1800, "rating": 4.6,
     "in_stock": True, "sizes": ["Free Size"], "colors": ["red"], "category": "saree",
     "attributes": {"fabric": "silk", "occasion": "wedding"}},
]

# message, language, slots it sets
SLOTS = [
    ("लाल सिल्क साड़ी २००० से कम", "hi", {"category": "saree", "colors": ["red"], "fabric": "silk", "max_price": 2000}),
    ("पार्टी के लिए काली ड्रेस 3 हज़ार तक", "hi",
     {"category": "dress", "colors": ["black"], "occasion": "party", "max_price": 3000}),
    ("پیراهن قرمز زیر ۲ میلیون", "fa", {"category": "dress", "colors": ["red"], "max_price": 2_000_000}),
    ("کفش مشکی زیر ۵۰۰ هزار تومان", "fa", {"category": "shoes", "colors": ["black"], "max_price": 500_000}),
    ("کیف سفید بین ۱۰۰۰ تا ۳۰۰۰", "fa", {"category": "bags", "colors": ["white"], "min_price": 1000, "max_price": 3000}),
    ("красное шёлковое платье до 5000", "ru", {"category": "dress", "colors": ["red"], "fabric": "silk", "max_price": 5000}),
    ("чёрная кожаная куртка от 2 000 до 8 000", "ru",
     {"category": "jacket", "colors": ["black"], "fabric": "leather", "min_price": 2000, "max_price": 8000}),
    ("синие джинсы дешевле 3 тыс", "ru", {"category": "jeans", "colors": ["blue"], "max_price": 3000}),
    ("שמלה אדומה עד 300", "he", {"category": "dress", "colors": ["red"], "max_price": 300}),
    ("תיק שחור מתחת ל-500", "he", {"category": "bags", "colors": ["black"], "max_price": 500}),
    ("חולצה כחולה במידה L", "he", {"category": "shirt", "colors": ["blue"], "sizes": ["L"]}),
]

VOCABULARY = demo_vocabulary()  # the demo catalog's words, as the running app learns them


@pytest.mark.parametrize(("message", "language", "slots"), SLOTS)
def test_native_messages_set_category_colour_and_budget(message: str, language: str, slots: dict) -> None:
    assert language_of(message) == language
    assert extract_slots(in_english(message), VOCABULARY).as_dict() == slots


def test_english_and_romanised_hindi_are_read_as_they_are() -> None:
    for message in ("red lehenga under 20k", "shaadi ke liye laal saree 5000 se kam", "kya ye M size mein hai?"):
        assert in_english(message) == message
        assert language_of(message) == "en"


def test_arabic_script_is_persian_unless_arabic_letters_say_otherwise() -> None:
    assert language_of("قرمز") == "fa"  # no letter only Persian has, still a Persian shop's word
    assert language_of("فستان أحمر") == "en"  # Arabic: the agent has no Arabic wording


def test_a_rial_amount_is_read_in_toman() -> None:
    assert extract_slots(in_english("کیف زیر ۲۰۰۰۰۰ ریال"), VOCABULARY).max_price == 20_000


@pytest.mark.parametrize("message", ["покажи подешевле", "ارزانتر نشان بده", "יש משהו זול יותר?"])
def test_cheaper_without_a_number_lowers_the_price(message: str) -> None:
    assert price_direction(in_english(message)) == "lower"


@pytest.fixture(scope="module")
def lexical() -> IntentClassifier:
    return IntentClassifier(embedder=None)


@pytest.mark.parametrize(("message", "intent"), [
    ("मेरा ऑर्डर कहाँ है", "order_status"),
    ("مرجوعی چطور است", "returns_policy"),
    ("соедините меня с оператором", "human_handoff"),
    ("יש הנחה על השמלה?", "price_discount"),
    ("लाल साड़ी दिखाओ", "browse_search"),
    ("сравни первое и второе", "compare"),
])
async def test_native_messages_get_their_intent(lexical: IntentClassifier, message: str, intent: str) -> None:
    assert (await lexical.classify(in_english(message))).intent == intent


def turn(language: str, intent: str = "browse_search", confident: bool = True) -> Turn:
    filters = Filters(category="saree", colors=("red",), max_price=2000)
    return Turn(message="", intent=intent, confidence=0.9, confident=confident, slots=filters, filters=filters,
                query="", language=language)  # type: ignore[arg-type]


SCRIPT = {"hi": "\u0900-\u097f", "fa": "\u0600-\u06ff", "ru": "\u0400-\u04ff", "he": "\u0590-\u05ff"}


def in_script(text: str, language: str) -> bool:
    """Most letters of `text` outside product titles and catalog words are `language`'s."""
    import re
    letters = re.findall(r"[^\W\d_]", re.sub(r"\*\*[^*]+\*\*|Ruby Silk Saree|Chandbagh|saree|red|silk|wedding", "", text))
    own = re.findall(f"[{SCRIPT[language]}]", "".join(letters))
    return len(own) > 0.8 * len(letters)


@pytest.mark.parametrize("language", ["hi", "fa", "ru", "he"])
def test_answers_are_in_the_message_language(language: str) -> None:
    market = {"matching": 12, "in_stock": 9, "currency": "INR",
              "price": {"min": 900, "p25": 1200, "median": 2500, "p75": 4000, "max": 9000},
              "budget": {"within": 4, "in_stock_within": 3}}
    found = Found(cards=CARDS, total=4, filters=turn(language).filters, relaxed=())
    answer = reply.compose(turn(language), Outcome(found=found, market=market))
    assert "Ruby Silk Saree" in answer and "₹1,800" in answer and "₹9,000" in answer
    assert "4" in answer and "12" in answer  # the counts: found, and the market's
    assert in_script(answer, language), answer
    for intent in ("order_status", "human_handoff", "greeting_smalltalk", "out_of_scope"):
        assert in_script(reply.compose(turn(language, intent), Outcome()), language)
    assert in_script(reply.compose(turn(language, confident=False), Outcome()), language)
    assert in_script(reply.compose(turn(language), Outcome()), language)  # nothing found


@pytest.mark.parametrize(("language", "cited"), [
    ("en", "From returns.pdf, page 2:"), ("hi", "returns.pdf, पृष्ठ 2 के अनुसार:"), ("fa", "بر اساس returns.pdf, صفحهٔ 2:"),
    ("ru", "Из документа returns.pdf, страница 2:"), ("he", "לפי returns.pdf, עמוד 2:"),
])
def test_a_quoted_document_is_cited_in_the_answer_language(language: str, cited: str) -> None:
    documents = [{"file_name": "returns.pdf", "page": 2, "score": 0.8,
                  "text": "Returns are accepted within 15 days of delivery for unworn items."}]
    asked = replace(turn(language, "returns_policy"), message="are returns accepted")  # the message as read
    answer = reply.compose(asked, Outcome(documents=documents))
    assert answer == f"{cited} Returns are accepted within 15 days of delivery for unworn items."


@pytest.mark.parametrize("language", ["hi", "fa", "ru", "he"])
def test_suggestions_in_a_language_read_back_as_they_say(language: str) -> None:
    """A suggestion is sent as the shopper's next message: it must mean what it says."""
    from app.agent.memory import references
    from app.agent.wording import suggestion

    def read(english: str, **values: str) -> str:
        native = suggestion(language, english, **values)
        assert in_script(native.replace(values.get("color", "\0"), "").replace(values.get("size", "\0"), ""), language)
        return in_english(native)

    assert price_direction(read("Show me cheaper ones")) == "lower"
    assert references(read("Compare the first two"), ["A", "B", "C"]) == ["A", "B"]
    assert extract_slots(read("In {color}", color="blue"), VOCABULARY).colors == ("blue",)
    assert extract_slots(read("Red silk sarees under 10k"), VOCABULARY).as_dict() == {
        "category": "saree", "colors": ["red"], "fabric": "silk", "max_price": 10000}
    assert extract_slots(read("Is the first one available in size {size}?", size="M"), VOCABULARY).sizes == ("M",)
