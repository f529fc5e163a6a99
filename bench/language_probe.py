"""Ask about countries by their names in other languages, and check that each is sent.

    python bench/language_probe.py [--seed N] [--per-language K]

dev-29 holds every country with its name in two dozen languages. This asks for the capital
of K random countries in English, German, French, Russian and Japanese, each named as that
language does ("Какая столица у Румыния?", "ドミニカ国の首都は？"), and checks that the
country's item (its cca3 code and English name) is in what would be sent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from headroom import Headroom  # noqa: E402

WORKLOAD = ROOT.parent / "shared" / "workloads" / "dev" / "dev-29-api-countries-all-xl.json"
QUESTIONS = {
    "eng": "What is the capital of {}?",
    "deu": "Wie heißt die Hauptstadt von {}?",
    "fra": "Quelle est la capitale de {} ?",
    "rus": "Какая столица у {}?",
    "jpn": "{}の首都は？",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-language", type=int, default=25)
    args = parser.parse_args()
    request = json.loads(WORKLOAD.read_text())["request"]
    messages = request["messages"]
    at = next(i for i, m in enumerate(messages) if m["role"] == "tool")
    asking = max(i for i in range(at) if messages[i]["role"] == "user")
    countries = json.loads(messages[at]["content"])
    rng, engine, console = random.Random(args.seed), Headroom(), Console()
    for language, template in QUESTIONS.items():
        asked = lost = 0
        for country in rng.sample(countries, args.per_language):
            names = country["name"] if language == "eng" else country["translations"].get(language)
            if not names:
                continue
            question = template.format(names["common"])
            chat = list(messages)
            chat[asking] = {"role": "user", "content": question}
            sent = engine.simulate(chat, model=request["model"]).messages[at]["content"]
            english = json.dumps(country["name"]["common"], ensure_ascii=False)
            asked += 1
            if json.dumps(country["cca3"]) not in sent or english not in sent:
                lost += 1
                console.print(f"  not sent: {question}")
        console.print(f"{language}: questions asked: {asked}; countries not sent: {lost}")


if __name__ == "__main__":
    main()
